# frozen_string_literal: true

# Sends a message built by Mixpanel::Tracker (see config/initializers/vendors.rb).
class MixpanelDeliveryJob < ApplicationJob
  queue_as :integrations

  def perform(type, message)
    consumer.send!(type.to_sym, message)
  end

  private

  def consumer
    @consumer ||= Mixpanel::Consumer.new
  end
end
