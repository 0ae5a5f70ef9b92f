# frozen_string_literal: true

class TicketsController < ApplicationController
  def index
    @tickets = current_user.tickets.order(created_at: :desc).limit(50)
  end

  def create
    @ticket = current_user.tickets.build(ticket_params)
    if @ticket.save
      ProductAnalytics.new.ticket_created(current_user, @ticket)
      redirect_to tickets_path, notice: "Thanks! We'll get back to you shortly."
    else
      render :new, status: :unprocessable_entity
    end
  end

  private

  def ticket_params
    params.require(:ticket).permit(:subject, :body, :priority)
  end
end
