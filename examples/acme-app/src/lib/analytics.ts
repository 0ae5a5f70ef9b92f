import mixpanel from "mixpanel-browser";
import type { CurrentUser } from "../hooks/useCurrentUser";

let initialized = false;

export function initAnalytics(): void {
  const token = process.env.NEXT_PUBLIC_MIXPANEL_TOKEN;
  if (initialized || !token) return;
  mixpanel.init(token, {
    debug: process.env.NODE_ENV !== "production",
    persistence: "localStorage",
    track_pageview: false,
  });
  initialized = true;
}

export function identifyUser(user: CurrentUser): void {
  if (!initialized) return;
  mixpanel.identify(user.id);
  mixpanel.people.set({
    $email: user.email,
    $name: user.fullName,
    org_id: user.orgId,
  });
}

export type UsageRange = "7d" | "30d" | "90d";

export function trackUsageViewed(user: CurrentUser, range: UsageRange, metric: string): void {
  if (!initialized) return;
  mixpanel.track("Viewed Usage", {
    range,
    metric,
    org_id: user.orgId,
  });
}

export function resetAnalytics(): void {
  if (initialized) mixpanel.reset();
}
