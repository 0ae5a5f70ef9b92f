# frozen_string_literal: true

require "intercom"
require "mixpanel-ruby"

Rails.application.config.x.hotjar_site_id = ENV["HOTJAR_SITE_ID"]

INTERCOM = Intercom::Client.new(token: ENV.fetch("INTERCOM_ACCESS_TOKEN", ""))

MIXPANEL = Mixpanel::Tracker.new(ENV.fetch("MIXPANEL_TOKEN", "")) do |type, message|
  # Deliver from Sidekiq so a slow Mixpanel API never blocks a request.
  MixpanelDeliveryJob.perform_later(type.to_s, message)
end
