import Testing
@testable import ReadSyncServer

struct AccessTokenTests {
    @Test func tokensAreRandomHexAndNamesAreChecked() {
        let token = AccessToken.generate()
        #expect(token.count == 64 && token.allSatisfy(\.isHexDigit) && token != AccessToken.generate())
        #expect(AccessToken.hash(token) != token && AccessToken.hash(token) == AccessToken.hash(token))
        #expect(AccessToken.isValidUserName("alice.b-1") && !AccessToken.isValidUserName("a b") && !AccessToken.isValidUserName(""))
    }
}
