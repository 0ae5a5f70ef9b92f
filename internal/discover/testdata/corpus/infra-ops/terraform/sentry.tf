resource "sentry_team" "ops" {
  organization = var.sentry_org
  name         = "Ops"
  slug         = "ops"
}

resource "sentry_project" "orders_api" {
  organization = var.sentry_org
  teams        = [sentry_team.ops.slug]
  name         = var.service
  slug         = var.service
  platform     = "python-django"

  resolve_age = 720
}

resource "sentry_key" "orders_api" {
  organization = var.sentry_org
  project      = sentry_project.orders_api.slug
  name         = "kubernetes"
}

output "sentry_dsn" {
  value     = sentry_key.orders_api.dsn_public
  sensitive = true
}
