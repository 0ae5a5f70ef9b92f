// @ts-check
const { withSentryConfig } = require("@sentry/nextjs");

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  async rewrites() {
    return [{ source: "/api/usage/:path*", destination: `${process.env.USAGE_API_URL}/v1/usage/:path*` }];
  },
};

module.exports = withSentryConfig(nextConfig, {
  org: "acme-analytics",
  project: "dashboard-next",
  silent: !process.env.CI,
  widenClientFileUpload: true,
  hideSourceMaps: true,
});
