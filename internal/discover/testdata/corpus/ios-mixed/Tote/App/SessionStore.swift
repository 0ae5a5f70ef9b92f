import Foundation
import Sentry

/// Holds the signed-in user and tells the SDKs about them.
@MainActor
final class SessionStore: ObservableObject {
    @Published private(set) var user: User?

    func signIn(_ user: User) {
        self.user = user

        AnalyticsService.shared.identify(user)

        let sentryUser = Sentry.User(userId: user.id)
        sentryUser.email = user.email
        SentrySDK.setUser(sentryUser)
    }

    func signOut() {
        user = nil
        AnalyticsService.shared.reset()
        SentrySDK.setUser(nil)
    }
}
