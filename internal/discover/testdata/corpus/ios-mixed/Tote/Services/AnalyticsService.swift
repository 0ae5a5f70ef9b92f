import Foundation
import Mixpanel

final class AnalyticsService {
    static let shared = AnalyticsService()

    private var mixpanel: MixpanelInstance { Mixpanel.mainInstance() }

    func start(token: String) {
        Mixpanel.initialize(token: token, trackAutomaticEvents: false, serverURL: "https://api-eu.mixpanel.com")
    }

    func identify(_ user: User) {
        mixpanel.identify(distinctId: user.id)
        Mixpanel.mainInstance().people.set(properties: ["$email": user.email, "$name": user.name])
    }

    func orderCompleted(_ order: Order) {
        mixpanel.track(event: "Order Completed", properties: [
            "order_id": order.id,
            "amount": NSDecimalNumber(decimal: order.total).doubleValue,
            "currency": order.currency,
            "item_count": order.itemCount,
        ])
    }

    func reset() {
        mixpanel.reset()
    }
}
