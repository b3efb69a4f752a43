// swift-tools-version: 6.1
import PackageDescription

// One settings array for every Swift target (as hummingbird does).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "readsync",
    // readsync is built and tested on Linux. macOS 15 is the oldest whose
    // APIs the code uses (Synchronization's Mutex, task executors); the
    // package is not tested there.
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "readsync", targets: ["readsync"]),
        .executable(name: "readsync-bench", targets: ["readsync-bench"]),
        .library(name: "ReadSyncCore", targets: ["ReadSyncCore"]),
        .library(name: "ReadSyncClient", targets: ["ReadSyncClient"]),
        .library(name: "ReadSyncServer", targets: ["ReadSyncServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.9.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        // For the tests only: docs/openapi.yaml read and validated by OpenAPIKit
        // (without its ExternalLoading trait, which builds notably slower).
        .package(url: "https://github.com/mattpolzin/OpenAPIKit", from: "6.4.0", traits: []),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
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

        .systemLibrary(
            name: "CLibDeflate",
            path: "Sources/CLibDeflate",
            pkgConfig: "libdeflate",
            providers: [.apt(["libdeflate-dev"])]
        ),
        .systemLibrary(
            name: "CMalloc",
            path: "Sources/CMalloc"
        ),
        .systemLibrary(
            name: "CLibCrypto",
            path: "Sources/CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),

        // MARK: Libraries
        // Crash-test hooks shared by client and server; inert unless
        // READSYNC_FAULT names one.
        .target(
            name: "FaultPoints",
            swiftSettings: swiftSettings
        ),
        // Folders and files only this account may read (0700 / 0600), for a
        // device's home and a server's data folder alike.
        .target(
            name: "PrivateStorage",
            swiftSettings: swiftSettings
        ),
        // The memory allocator's settings, made once by each executable.
        .target(
            name: "ProcessMemory",
            dependencies: ["CMalloc"],
            swiftSettings: swiftSettings
        ),
        // SQLite's own API where GRDB's does not serve: a prepared statement
        // run directly, for the few statements both sides run for every
        // entity or field, where GRDB's general path costs as much as
        // SQLite's work; and the WAL copied on a connection of its own.
        .target(
            name: "SQLiteStatements",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ReadSyncCore",
            dependencies: ["CLibDeflate", "CLibCrypto"],
            swiftSettings: swiftSettings
        ),
        // What both sides make of saved articles, without either side's
        // storage: a page fetched (libcurl) and extracted (libxml2) into an
        // article the same way on both, so one page is one article, and EPUB
        // books.
        .target(
            name: "ReadSyncArticles",
            dependencies: [
                "ReadSyncCore",
                "CCurl",
                "CLibXML2",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            path: "Articles",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ReadSyncClient",
            dependencies: [
                "ReadSyncCore",
                "ReadSyncArticles",
                "FaultPoints",
                "PrivateStorage",
                "SQLiteStatements",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            path: "Client",
            swiftSettings: swiftSettings
        ),

        .target(
            name: "ReadSyncServer",
            dependencies: [
                "ReadSyncCore",
                "ReadSyncArticles",
                "FaultPoints",
                "PrivateStorage",
                "SQLiteStatements",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            path: "Server",
            resources: [
                .embedInCode("HTTP/openapi.yaml"),
                // The web reader's pages and files (`Web/`).
                .embedInCode("Web/Templates/head.mustache"), .embedInCode("Web/Templates/foot.mustache"),
                .embedInCode("Web/Templates/signin.mustache"), .embedInCode("Web/Templates/list.mustache"),
                .embedInCode("Web/Templates/article.mustache"), .embedInCode("Web/Templates/message.mustache"),
                .embedInCode("Web/Static/reader.css"), .embedInCode("Web/Static/reader.js"),
                .embedInCode("Web/Static/icon.svg"), .embedInCode("Web/Static/manifest.webmanifest"), .embedInCode("Web/Static/sw.js"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: The executable: argument parsing and printing only
        .executableTarget(
            name: "readsync",
            dependencies: [
                "ProcessMemory",
                "ReadSyncClient",
                "ReadSyncServer",
                "ReadSyncCore",
                "ReadSyncArticles",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Benchmarks: the measuring code as a library (a test runs its
        // quick mode), and a thin executable that prints and saves the report.
        .target(
            name: "ReadSyncBenchKit",
            dependencies: [
                "ReadSyncClient", "ReadSyncServer", "ReadSyncCore", "ReadSyncArticles",
                // SeededGenerator: the same library every run.
                "SeededRandom",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/ReadSyncBenchKit",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "readsync-bench",
            dependencies: [
                "ReadSyncBenchKit", "ProcessMemory",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/readsync-bench",
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        // What fuzzing checks on any input; driven by libFuzzer in
        // scripts/fuzz.sh and replayed over Fuzz/Corpus and Fuzz/Crashers by
        // the tests.
        .target(
            name: "FuzzChecks",
            dependencies: ["ReadSyncCore", "ReadSyncArticles"],
            path: "Fuzz/Checks",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReadSyncCoreTests",
            dependencies: ["SeededRandom", "ReadSyncCore", "ReadSyncTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SQLiteStatementsTests",
            dependencies: [
                "SQLiteStatements", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReadSyncArticlesTests",
            dependencies: ["ReadSyncArticles", "ReadSyncCore", "ReadSyncTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReadSyncClientTests",
            dependencies: [
                "SeededRandom", "PrivateStorage", "ReadSyncClient",
                "ReadSyncCore",
                "SQLiteStatements",
                "ReadSyncArticles",
                "ReadSyncTestSupport",
                "FuzzChecks",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        // A seeded random generator, for tests and the benchmark alike (a
        // module of its own: the benchmark builds in release, where
        // ReadSyncTestSupport's @testable imports cannot).
        .target(
            name: "SeededRandom",
            path: "Tests/SeededRandom",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ReadSyncTestSupport",
            dependencies: [
                "ReadSyncServer", "ReadSyncClient", "ReadSyncCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/ReadSyncTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReadSyncServerTests",
            dependencies: [
                "PrivateStorage", "ReadSyncServer", "ReadSyncClient", "ReadSyncCore", "ReadSyncArticles", "ReadSyncTestSupport",
                "SQLiteStatements",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "OpenAPIKit30", package: "OpenAPIKit"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SyncTests",
            dependencies: [
                "ReadSyncServer", "ReadSyncClient", "ReadSyncCore", "ReadSyncArticles", "ReadSyncTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SimulationTests",
            dependencies: [
                "SeededRandom", "ReadSyncServer", "ReadSyncClient", "ReadSyncCore", "ReadSyncArticles", "ReadSyncTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BenchTests",
            // Depending on the executable makes `swift test` build it first.
            dependencies: ["readsync", "ReadSyncBenchKit", "ReadSyncTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EndToEndTests",
            // Depending on the executable makes `swift test` build it first.
            dependencies: [
                "readsync", "FaultPoints", "ReadSyncCore", "ReadSyncServer", "ReadSyncTestSupport", "SeededRandom",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)

// Micro-benchmarks of the hot paths with ordo-one/benchmark, only when
// READSYNC_BENCHMARKS is set (as Hummingbird does with its own), so that a
// package using readsync's libraries never resolves ordo-one/benchmark and
// its malloc interposer, and the test command does not build them (about a
// minute of CI's half hour). Run them with
// `READSYNC_BENCHMARKS=1 swift package benchmark --target CoreHotPaths`
// (the plugin takes every executable under Benchmarks/ for a benchmark,
// readsync-bench too, hence --target).
if Context.environment["READSYNC_BENCHMARKS"] != nil {
    // Only the MallocInterposer trait: the default traits also need
    // swift-runtime-interposer, which the package mirror does not have.
    package.dependencies.append(.package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]))
    package.targets.append(
        .executableTarget(
            name: "CoreHotPaths",
            dependencies: [
                "ReadSyncCore",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/CoreHotPaths",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    )
}
