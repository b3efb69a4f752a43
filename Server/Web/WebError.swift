import Foundation
import HTTPTypes
import Hummingbird

/// Something a browser asked for that the web reader refuses: shown as a
/// page that says what to do (not the API's JSON), with its status.
struct WebError: Error {
    let status: HTTPResponse.Status
    let heading: String
    let message: String
    var headers: HTTPFields = [:]
    /// Where to sign in and come back to, for a request without a session.
    var signInNext: String?

    init(_ status: HTTPResponse.Status, _ heading: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.heading = heading
        self.message = message
        self.headers = headers
    }

    /// A page asked for without a session: to the sign-in page, and back after.
    static func signInFirst(next: String) -> WebError {
        var error = WebError(.seeOther, "Sign in", "Sign in to read your library.")
        error.signInNext = next
        return error
    }

    /// A post without this session's CSRF token: from another site's page,
    /// or a form left open across a sign-out or a password change.
    static let forgedForm = WebError(
        .forbidden, "This form has expired",
        "It was not sent from a page of this session. Go back, reload the page and try again.")
}

/// The web reader's pages' headers, and its refusals as pages.
///
/// The Content-Security-Policy allows script, styles and fetches from this
/// site only and no inline script at all: even if an article's text ever
/// reached a page as markup, it could not run.
struct WebPageMiddleware: RouterMiddleware {
    typealias Context = SyncRequestContext
    let pages: WebPages

    static let securityHeaders: HTTPFields = [
        HTTPField.Name("Content-Security-Policy")!: "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; manifest-src 'self'; worker-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "same-origin",
    ]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as WebError {
            if let target = error.signInNext {
                let next = target.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "%2F"
                response = WebRoutes.redirect(to: "/signin?next=" + next)
            } else {
                response = pages.response(
                    error.status, "message",
                    MessagePage(
                        page: PageChrome(title: error.heading), heading: error.heading, message: error.message,
                        signIn: error.status == .forbidden ? "/signin" : nil), headers: error.headers)
            }
        }
        for field in Self.securityHeaders { response.headers[field.name] = field.value }
        return response
    }
}
