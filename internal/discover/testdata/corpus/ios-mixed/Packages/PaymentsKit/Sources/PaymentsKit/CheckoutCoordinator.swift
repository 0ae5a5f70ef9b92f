import Foundation
import Sentry
import StripePaymentSheet
import UIKit

public struct CheckoutCustomer {
    public let id: String
    public let name: String
    public let email: String

    public init(id: String, name: String, email: String) {
        self.id = id
        self.name = name
        self.email = email
    }
}

/// Payment intents are created by our own backend; this type only drives PaymentSheet.
public final class CheckoutCoordinator {
    private let backendURL: URL
    private var paymentSheet: PaymentSheet?

    public init(backendURL: URL, publishableKey: String) {
        self.backendURL = backendURL
        STPAPIClient.shared.publishableKey = publishableKey
    }

    public func prepare(orderID: String, customer: CheckoutCustomer) async throws {
        var request = URLRequest(url: backendURL.appendingPathComponent("v1/orders/\(orderID)/payment-intent"))
        request.httpMethod = "POST"
        let (data, _) = try await URLSession.shared.data(for: request)
        let intent = try JSONDecoder().decode(IntentResponse.self, from: data)

        var configuration = PaymentSheet.Configuration()
        configuration.merchantDisplayName = "Tote"
        configuration.customer = .init(id: intent.customerID, ephemeralKeySecret: intent.ephemeralKey)
        configuration.defaultBillingDetails.name = customer.name
        configuration.defaultBillingDetails.email = customer.email
        configuration.allowsDelayedPaymentMethods = false

        paymentSheet = PaymentSheet(paymentIntentClientSecret: intent.clientSecret, configuration: configuration)
    }

    @MainActor
    public func present(from viewController: UIViewController) async -> Bool {
        guard let sheet = paymentSheet else { return false }
        return await withCheckedContinuation { continuation in
            sheet.present(from: viewController) { result in
                switch result {
                case .completed:
                    continuation.resume(returning: true)
                case .canceled:
                    continuation.resume(returning: false)
                case .failed(let error):
                    SentrySDK.capture(error: error)
                    continuation.resume(returning: false)
                }
            }
        }
    }
}

private struct IntentResponse: Decodable {
    let clientSecret: String
    let customerID: String
    let ephemeralKey: String

    enum CodingKeys: String, CodingKey {
        case clientSecret = "client_secret"
        case customerID = "customer_id"
        case ephemeralKey = "ephemeral_key"
    }
}
