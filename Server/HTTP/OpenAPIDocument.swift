/// The OpenAPI 3 description of the protocol, served at `/v1/openapi.yaml`:
/// `openapi.yaml` beside this file, compiled into the binary (SwiftPM's
/// `embedInCode`), so the document served and the one in the repository
/// (`docs/openapi.yaml` links to it) are one file.
enum OpenAPIDocument {
    static let yaml = String(decoding: PackageResources.openapi_yaml, as: UTF8.self)
}
