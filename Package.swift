// swift-tools-version: 6.1
import PackageDescription

// One settings array for every Swift target (as hummingbird does).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "readsync",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "readsync", targets: ["readsync"]),
        .library(name: "ReadSyncCore", targets: ["ReadSyncCore"]),
        .library(name: "ReadSyncClient", targets: ["ReadSyncClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    ],
    targets: [
        // MARK: C system libraries (never public API)
        .systemLibrary(
            name: "CCurl",
            path: "Sources/CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CLibXML2",
            path: "Sources/CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),

        // MARK: Libraries
        .target(
            name: "ReadSyncCore",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ReadSyncClient",
            dependencies: [
                "ReadSyncCore",
                "CCurl",
                "CLibXML2",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Client",
            swiftSettings: swiftSettings
        ),

        // MARK: The executable: argument parsing and printing only
        .executableTarget(
            name: "readsync",
            dependencies: [
                "ReadSyncClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .testTarget(
            name: "ReadSyncCoreTests",
            dependencies: ["ReadSyncCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReadSyncClientTests",
            dependencies: [
                "ReadSyncClient",
                "ReadSyncCore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EndToEndTests",
            // Depending on the executable makes `swift test` build it first.
            dependencies: ["readsync"],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
