import { useEffect, useState } from "react";
import useSWR from "swr";
import { trackUsageViewed, type UsageRange } from "../src/lib/analytics";
import { useCurrentUser } from "../src/hooks/useCurrentUser";

interface UsagePoint {
  day: string;
  requests: number;
  errors: number;
}

const fetchJSON = (url: string) => fetch(url).then((r) => r.json());

export default function UsagePage() {
  const { user } = useCurrentUser();
  const [range, setRange] = useState<UsageRange>("30d");
  const [metric, setMetric] = useState<"requests" | "errors">("requests");
  const { data } = useSWR<UsagePoint[]>(`/api/usage/daily?range=${range}`, fetchJSON);

  useEffect(() => {
    if (user) trackUsageViewed(user, range, metric);
  }, [user, range, metric]);

  return (
    <main className="usage">
      <header>
        <h1>Usage</h1>
        <select value={range} onChange={(e) => setRange(e.target.value as UsageRange)}>
          <option value="7d">Last 7 days</option>
          <option value="30d">Last 30 days</option>
          <option value="90d">Last 90 days</option>
        </select>
        <select value={metric} onChange={(e) => setMetric(e.target.value as "requests" | "errors")}>
          <option value="requests">Requests</option>
          <option value="errors">Errors</option>
        </select>
      </header>
      <table>
        <tbody>
          {(data ?? []).map((p) => (
            <tr key={p.day}>
              <td>{p.day}</td>
              <td>{p[metric]}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}
