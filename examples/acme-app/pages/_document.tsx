import { Head, Html, Main, NextScript } from "next/document";

const INTERCOM_APP_ID = process.env.NEXT_PUBLIC_INTERCOM_APP_ID ?? "";

// Intercom Messenger loader, adapted from the snippet in the Intercom install guide.
// The user is attached later, in _app.tsx, once /api/me has resolved.
const intercomSnippet = `
  window.intercomSettings = {
    api_base: "https://api-iam.intercom.io",
    app_id: "${INTERCOM_APP_ID}"
  };
  (function(){var w=window;var ic=w.Intercom;if(typeof ic==="function"){ic('reattach_activator');ic('update',w.intercomSettings);}else{var d=document;var i=function(){i.c(arguments);};i.q=[];i.c=function(args){i.q.push(args);};w.Intercom=i;var l=function(){var s=d.createElement('script');s.type='text/javascript';s.async=true;s.src='https://widget.intercom.io/widget/${INTERCOM_APP_ID}';var x=d.getElementsByTagName('script')[0];x.parentNode.insertBefore(s,x);};if(document.readyState==='complete'){l();}else if(w.attachEvent){w.attachEvent('onload',l);}else{w.addEventListener('load',l,false);}}})();
`;

export default function Document() {
  return (
    <Html lang="en">
      <Head>
        <link rel="icon" href="/favicon.ico" />
      </Head>
      <body>
        <Main />
        <NextScript />
        {INTERCOM_APP_ID && (
          <script id="intercom-loader" dangerouslySetInnerHTML={{ __html: intercomSnippet }} />
        )}
      </body>
    </Html>
  );
}
