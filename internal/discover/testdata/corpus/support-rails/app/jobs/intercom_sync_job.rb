# frozen_string_literal: true

class IntercomSyncJob < ApplicationJob
  queue_as :integrations
  retry_on Intercom::RateLimitExceeded, wait: :polynomially_longer, attempts: 5

  def perform(user_id)
    user = User.find(user_id)
    INTERCOM.users.create(
      user_id: user.id.to_s,
      email: user.email,
      name: user.name,
      signed_up_at: user.created_at.to_i,
      custom_attributes: { plan: user.plan }
    )
  end
end
