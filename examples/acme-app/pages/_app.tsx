import type { AppProps } from "next/app";
import { useEffect } from "react";
import * as Sentry from "@sentry/nextjs";
import { identifyUser, initAnalytics } from "../src/lib/analytics";
import { useCurrentUser } from "../src/hooks/useCurrentUser";

declare global {
  interface Window {
    Intercom?: (command: string, payload?: Record<string, unknown>) => void;
  }
}

function UserContext() {
  const { user } = useCurrentUser();

  useEffect(() => {
    initAnalytics();
  }, []);

  useEffect(() => {
    if (!user) return;

    identifyUser(user);

    Sentry.setUser({ id: user.id });

    window.Intercom?.("update", {
      user_id: user.id,
      email: user.email,
      name: user.fullName,
    });
  }, [user]);

  return null;
}

export default function DashboardApp({ Component, pageProps }: AppProps) {
  return (
    <>
      <UserContext />
      <Component {...pageProps} />
    </>
  );
}
