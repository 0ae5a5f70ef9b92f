import Sentry
import UIKit

@main
final class AppDelegate: UIResponder, UIApplicationDelegate {

    func application(
        _ application: UIApplication,
        didFinishLaunchingWithOptions launchOptions: [UIApplication.LaunchOptionsKey: Any]?
    ) -> Bool {
        SentrySDK.start { options in
            options.dsn = "https://examplePublicKey@o4506000000000000.ingest.de.sentry.io/4506000000000002"
            options.tracesSampleRate = 0.1
            options.enableAppHangTracking = true
        }

        if let token = Bundle.main.object(forInfoDictionaryKey: "MixpanelToken") as? String {
            AnalyticsService.shared.start(token: token)
        }
        return true
    }
}
