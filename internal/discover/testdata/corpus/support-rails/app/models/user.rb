# frozen_string_literal: true

class User < ApplicationRecord
  has_many :tickets, foreign_key: :requester_id, inverse_of: :requester

  validates :email, presence: true, uniqueness: { case_sensitive: false }

  after_create_commit { IntercomSyncJob.perform_later(id) }

  def name
    [first_name, last_name].compact_blank.join(" ")
  end
end
