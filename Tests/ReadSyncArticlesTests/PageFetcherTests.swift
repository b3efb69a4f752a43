import Foundation
import ReadSyncCore
import ReadSyncTestSupport
import Testing

@testable import ReadSyncArticles

/// A server fetching the pages its users name must not be made to fetch from
/// its own machine or network: `publicOnly` refuses such addresses, after
/// DNS and after every redirect, before any request is sent there. Real
/// libcurl, real servers on real loopback ports.
struct PageFetcherTests {
    static let limits = HTTPLimits(connectTimeoutSeconds: 2, totalTimeoutSeconds: 5, maxResponseBytes: 1_048_576)
    static let page = TestHTTPServer.Response.html("<html><head><title>Night trains</title></head><body><p>Sleepers are back.</p></body></html>")

    /// Runs `fetch` and returns the `FetchError` it throws.
    func refusal(_ fetch: () throws -> ArticleDraft) -> FetchError? {
        do {
            let draft = try fetch()
            Issue.record("fetched \(draft.title) instead of refusing")
            return nil
        } catch let error as FetchError {
            return error
        } catch {
            Issue.record("not a FetchError: \(error)")
            return nil
        }
    }

    @Test func publicOnlyRefusesThisMachineBeforeSendingAnything() throws {
        let server = try TestHTTPServer(routes: ["/page": Self.page])
        defer { server.stop() }
        let fetcher = PageFetcher(limits: Self.limits, addressPolicy: .publicOnly)

        let byAddress = server.url("/page")
        let error = refusal { try fetcher.draft(from: byAddress) }
        #expect(error == .refusedAddress(url: byAddress, redirectedTo: nil, address: IPAddress("127.0.0.1")!, addressClass: .loopback))
        #expect(
            error?.description
                == "refused to fetch \(byAddress): it resolves to 127.0.0.1, a loopback address, which this fetch policy does not allow")

        // A name is checked on what it resolves to (::1 or 127.0.0.1).
        let byName = "http://localhost:\(server.port)/page"
        guard case .refusedAddress(byName, nil, let address, .loopback) = refusal({ try fetcher.draft(from: byName) }) else {
            Issue.record("localhost was not refused as a loopback address")
            return
        }
        #expect(["127.0.0.1", "::1"].contains(address.description))
        #expect(server.requests.isEmpty, "the server saw a request")
    }

    @Test func aClosedPortIsRefusedLikeAnOpenOne() throws {
        // Nothing is connected to, so an answer cannot tell which ports of
        // the server's network are open.
        let closed = try TestHTTPServer(routes: [:])
        let url = closed.url("/")
        closed.stop()
        let error = refusal { try PageFetcher(limits: Self.limits, addressPolicy: .publicOnly).draft(from: url) }
        #expect(error == .refusedAddress(url: url, redirectedTo: nil, address: IPAddress("127.0.0.1")!, addressClass: .loopback))
    }

    @Test func everyRedirectIsChecked() throws {
        let secret = try TestHTTPServer(routes: ["/secret": Self.page], host: "127.0.0.2")
        defer { secret.stop() }
        let start = try TestHTTPServer(routes: ["/start": .redirect(to: secret.url("/secret")), "/page": Self.page])
        defer { start.stop() }
        // 127.0.0.1 stands in for a public address; 127.0.0.2 does not.
        let fetcher = PageFetcher(limits: Self.limits, addressPolicy: .publicOnly(allowing: [IPAddress("127.0.0.1")!]))
        #expect(try fetcher.draft(from: start.url("/page")).title == "Night trains", "the allowed address is fetched")

        let error = refusal { try fetcher.draft(from: start.url("/start")) }
        #expect(
            error == .refusedAddress(url: start.url("/start"), redirectedTo: secret.url("/secret"), address: IPAddress("127.0.0.2")!, addressClass: .loopback))
        #expect(
            error?.description
                == "refused to fetch \(start.url("/start")): it redirects to \(secret.url("/secret")), which resolves to 127.0.0.2, a loopback address, which this fetch policy does not allow"
        )
        #expect(start.requests == ["/page", "/start"])
        #expect(secret.requests.isEmpty, "the redirect's target was asked for")
    }

    @Test func theCheckBeforeEachRequestHoldsOnItsOwn() throws {
        // With no check before connecting, libcurl connects to 127.0.0.2;
        // the check it runs before sending the redirect's request refuses it.
        let secret = try TestHTTPServer(routes: ["/secret": Self.page], host: "127.0.0.2")
        defer { secret.stop() }
        let start = try TestHTTPServer(routes: ["/start": .redirect(to: secret.url("/secret"))])
        defer { start.stop() }
        let http = CurlHTTPClient(limits: Self.limits, addressPolicy: .publicOnly(allowing: [IPAddress("127.0.0.1")!]))
        http.checksBeforeConnecting = false

        #expect(
            throws: HTTPTransportError.refusedAddress(url: secret.url("/secret"), redirected: true, address: IPAddress("127.0.0.2")!, addressClass: .loopback)
        ) {
            try http.perform(HTTPRequest(url: start.url("/start")))
        }
        #expect(start.requests == ["/start"])
        #expect(secret.requests.isEmpty, "the redirect's target was asked for")
    }

    @Test func anyFetchesFromThisMachineAsTheClientAlwaysHas() throws {
        let server = try TestHTTPServer(routes: ["/page": Self.page, "/moved": .redirect(to: "/page")])
        defer { server.stop() }
        let fetcher = PageFetcher(limits: Self.limits)
        let draft = try fetcher.draft(from: server.url("/moved"))
        #expect(draft.title == "Night trains")
        #expect(draft.content == "Sleepers are back.")
        #expect(draft.url?.string == server.url("/moved"), "the identity is the URL saved")
        #expect(server.requests == ["/moved", "/page"])
    }
}
