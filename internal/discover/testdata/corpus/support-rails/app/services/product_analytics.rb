# frozen_string_literal: true

# Thin wrapper around the Mixpanel tracker so controllers never talk to it directly.
class ProductAnalytics
  def initialize(tracker: MIXPANEL)
    @tracker = tracker
  end

  def ticket_created(user, ticket)
    sync_profile(user)
    @tracker.track(user.id, "Ticket Created", {
      "priority" => ticket.priority,
      "channel" => "web"
    })
  end

  def sync_profile(user)
    @tracker.people.set(user.id, {
      "$email" => user.email,
      "$first_name" => user.first_name,
      "$last_name" => user.last_name
    })
  end
end
