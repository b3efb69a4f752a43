/// Which addresses `CurlHTTPClient` may connect to.
///
/// A server that fetches the pages its users name can be made to fetch from
/// its own network instead (server-side request forgery): `localhost`, a
/// database next door, a cloud's credentials at 169.254.169.254. So the
/// server fetches with `publicOnly`, checked on the address actually
/// connected to — after DNS, and again after every redirect — not on the
/// name in the URL, which can resolve anywhere.
public struct AddressPolicy: Sendable, Hashable {
    /// Whether non-public addresses are refused.
    let refusesNonPublic: Bool
    /// Non-public addresses allowed all the same, exactly.
    let allowed: Set<IPAddress>

    /// Any address: the client's, fetching for its own user on their own
    /// machine and network.
    public static let any = AddressPolicy(refusesNonPublic: false, allowed: [])

    /// Public addresses only: the server's, fetching what anyone with an
    /// account names. `readsync serve --fetch-private` uses `any` instead.
    public static let publicOnly = AddressPolicy(refusesNonPublic: true, allowed: [])

    /// Public addresses, and exactly the `allowed` ones besides: for tests
    /// (a local server on 127.0.0.1 and nothing else of this machine) and
    /// for an operator who must let one internal host through. An
    /// IPv4-mapped IPv6 address counts as its IPv4 address.
    public static func publicOnly(allowing allowed: Set<IPAddress>) -> AddressPolicy {
        AddressPolicy(refusesNonPublic: true, allowed: Set(allowed.map(\.unmapped)))
    }

    /// Why `address` may not be connected to (its class), or nil if it may.
    public func refusal(of address: IPAddress) -> IPAddressClass? {
        guard refusesNonPublic else { return nil }
        let addressClass = address.addressClass
        guard addressClass != .public, !allowed.contains(address.unmapped) else { return nil }
        return addressClass
    }
}
