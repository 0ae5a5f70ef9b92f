variable "datadog_api_key" {
  description = "Datadog API key used by the provider and the agents."
  type        = string
  sensitive   = true
}

variable "datadog_app_key" {
  description = "Datadog application key for managing monitors."
  type        = string
  sensitive   = true
}

variable "sentry_auth_token" {
  description = "Sentry internal-integration token."
  type        = string
  sensitive   = true
}

variable "sentry_org" {
  type    = string
  default = "acme"
}

variable "service" {
  type    = string
  default = "orders-api"
}

variable "env" {
  type    = string
  default = "production"
}
