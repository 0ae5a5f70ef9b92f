// Session replay, added by the growth team for the onboarding study.
import * as FullStory from "@fullstory/browser";
import type { CurrentUser } from "../hooks/useCurrentUser";

export function startReplay(orgId: string): void {
  FullStory.init({ orgId: process.env.NEXT_PUBLIC_FULLSTORY_ORG ?? "" });
}

export function identifyForReplay(user: CurrentUser): void {
  FullStory.identify(user.id, {
    displayName: user.fullName,
    email: user.email,
  });
}
