// swift-tools-version: 6.1
import PackageDescription

/// One settings list for every target: Swift 6 language mode with strict
/// concurrency everywhere.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "referral-events",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "ReferralEvents", targets: ["ReferralEvents"]),
        .library(name: "ReferralProjections", targets: ["ReferralProjections"]),
        .library(name: "ReferralDemo", targets: ["ReferralDemo"]),
        .executable(name: "referral", targets: ["ReferralCLI"]),
        .executable(name: "referral-bench", targets: ["ReferralBench"]),
        .executable(name: "referral-worker", targets: ["ReferralWorker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        .systemLibrary(
            name: "CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),
        .target(
            name: "ReferralEvents",
            dependencies: [
                "CLMDB",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ReferralProjections",
            dependencies: ["ReferralEvents"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ReferralDemo",
            dependencies: ["ReferralEvents"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ReferralCLI",
            dependencies: [
                "ReferralEvents",
                "ReferralProjections",
                "ReferralDemo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ReferralBench",
            dependencies: ["ReferralEvents", "ReferralProjections", "ReferralDemo", "CLMDB"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ReferralWorker",
            dependencies: ["ReferralEvents"],
            swiftSettings: swiftSettings
        ),
        // Test helpers shared by the test targets; in no product.
        .target(
            name: "ReferralTestSupport",
            path: "Tests/ReferralTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReferralEventsTests",
            dependencies: ["ReferralEvents", "CLMDB", "ReferralTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReferralProjectionsTests",
            dependencies: ["ReferralProjections", "ReferralEvents", "ReferralDemo", "ReferralTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReferralCLITests",
            dependencies: ["ReferralCLI", "ReferralEvents"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReferralReliabilityTests",
            dependencies: ["ReferralEvents", "ReferralProjections", "ReferralDemo"],
            swiftSettings: swiftSettings
        ),
    ]
)
