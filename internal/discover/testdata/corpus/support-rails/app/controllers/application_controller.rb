# frozen_string_literal: true

class ApplicationController < ActionController::Base
  before_action :authenticate_user!
  before_action :set_sentry_user

  private

  def set_sentry_user
    return unless current_user

    Sentry.set_user(id: current_user.id, email: current_user.email)
  end
end
