resource "datadog_monitor" "api_error_rate" {
  name    = "[${var.env}] ${var.service} 5xx rate above 2%"
  type    = "query alert"
  message = <<-EOT
    5xx rate on ${var.service} is {{value}}%.
    @ops-oncall@acme.test
  EOT

  query = "sum(last_5m):sum:trace.http.request.errors{service:${var.service},env:${var.env}}.as_count() / sum:trace.http.request.hits{service:${var.service},env:${var.env}}.as_count() * 100 > 2"

  monitor_thresholds {
    critical = 2
    warning  = 1
  }

  notify_no_data    = false
  renotify_interval = 60
  tags              = ["service:${var.service}", "env:${var.env}", "team:ops"]
}

resource "datadog_monitor" "api_latency_p95" {
  name    = "[${var.env}] ${var.service} p95 latency"
  type    = "metric alert"
  message = "p95 latency on ${var.service} is {{value}}s. @ops-oncall@acme.test"
  query   = "avg(last_10m):p95:trace.http.request{service:${var.service},env:${var.env}} > 0.8"

  monitor_thresholds {
    critical = 0.8
  }

  tags = ["service:${var.service}", "env:${var.env}", "team:ops"]
}
