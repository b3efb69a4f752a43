import HTTPTypes
import Hummingbird
import NIOCore

/// The web reader's files other than pages: its style sheet, its script,
/// its service worker and its web app manifest (`Static/`, compiled into
/// the binary).
struct WebAssets: Sendable {
    let path: String
    let contentType: String
    let bytes: [UInt8]

    static let all = [
        WebAssets(path: "/static/reader.css", contentType: "text/css; charset=utf-8", bytes: PackageResources.reader_css),
        WebAssets(path: "/static/reader.js", contentType: "text/javascript; charset=utf-8", bytes: PackageResources.reader_js),
        WebAssets(path: "/static/icon.svg", contentType: "image/svg+xml", bytes: PackageResources.icon_svg),
        // The service worker, at the root so that its scope is the whole reader.
        WebAssets(path: "/sw.js", contentType: "text/javascript; charset=utf-8", bytes: PackageResources.sw_js),
        WebAssets(path: "/manifest.webmanifest", contentType: "application/manifest+json", bytes: PackageResources.manifest_webmanifest),
    ]

    var response: Response {
        // Revalidated after five minutes, so a new version's files arrive soon after an upgrade.
        Response(
            status: .ok, headers: [.contentType: contentType, .cacheControl: "public, max-age=300"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
