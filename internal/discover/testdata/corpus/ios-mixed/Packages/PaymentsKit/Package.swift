// swift-tools-version:5.9
import PackageDescription

let package = Package(
    name: "PaymentsKit",
    platforms: [.iOS(.v15)],
    products: [
        .library(name: "PaymentsKit", targets: ["PaymentsKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/stripe/stripe-ios", from: "24.0.0"),
        .package(url: "https://github.com/getsentry/sentry-cocoa", from: "8.40.0"),
    ],
    targets: [
        .target(
            name: "PaymentsKit",
            dependencies: [
                .product(name: "StripePaymentSheet", package: "stripe-ios"),
                .product(name: "Sentry", package: "sentry-cocoa"),
            ]
        ),
    ]
)
