import { createApp } from "vue";
import posthog from "posthog-js";
import App from "./App.vue";
import HotjarLoader from "./widgets/HotjarLoader.svelte";

posthog.init(import.meta.env.VITE_POSTHOG_KEY, {
  api_host: import.meta.env.VITE_POSTHOG_HOST ?? "https://eu.i.posthog.com",
  person_profiles: "identified_only",
  capture_pageview: true,
});

createApp(App).mount("#app");

new HotjarLoader({
  target: document.getElementById("hotjar")!,
  props: { siteId: Number(import.meta.env.VITE_HOTJAR_ID) },
});
