import useSWR from "swr";

export interface CurrentUser {
  id: string;
  email: string;
  fullName: string;
  plan: "free" | "team" | "enterprise";
  orgId: string;
}

const fetcher = async (url: string): Promise<CurrentUser> => {
  const res = await fetch(url, { credentials: "include" });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res.json();
};

export function useCurrentUser() {
  const { data, error, isLoading } = useSWR<CurrentUser>("/api/me", fetcher);
  return { user: data, error, isLoading };
}
