import Foundation
import OpenAPIKit30
import ReadSyncCore
import Testing
import Yams

@testable import ReadSyncServer

/// `docs/openapi.yaml`, the document the server serves, as OpenAPIKit reads
/// it: valid OpenAPI 3.0, its error codes exactly the ones server and
/// client share, and every refusal the protocol tests drive documented.
struct OpenAPIDocumentTests {
    static func document() throws -> OpenAPI.Document {
        try YAMLDecoder().decode(OpenAPI.Document.self, from: OpenAPIDocument.yaml)
    }

    @Test func theServedDocumentIsValidOpenAPI() throws {
        let document = try Self.document()
        let warnings = try document.validate()
        #expect(warnings.isEmpty, "\(warnings)")
    }

    /// The Error schema's `code` enum is `ErrorCode.all`, and each code is
    /// explained in some response of the document.
    @Test func itsErrorCodesAreTheOnesServerAndClientShare() throws {
        let document = try Self.document()
        let error = try #require(document.components.schemas["Error"]?.objectContext?.properties["error"]?.objectContext)
        let codes = try #require(error.properties["code"]?.allowedValues).compactMap { $0.value as? String }
        #expect(Set(codes) == Set(ErrorCode.all.map(\.rawValue)) && codes.count == ErrorCode.all.count)

        var descriptions = document.components.responses.values.map(\.description)
        for path in document.paths.values.compactMap(\.pathItemValue) {
            for endpoint in path.endpoints {
                descriptions += endpoint.operation.responses.values.compactMap { $0.responseValue?.description }
            }
        }
        for code in ErrorCode.all {
            #expect(descriptions.contains { $0.contains("`\(code.rawValue)`") }, "no response of the document explains \(code)")
        }
    }

    /// Every refusal `ProtocolAnswerTests` drives is a response its path and
    /// method document. (A 404 for an unknown path or method has no operation
    /// to be listed under.)
    @Test func everyRefusalTheProtocolTestsDriveIsDocumented() throws {
        let document = try Self.document()
        for refusal in ProtocolAnswerTests.cases where refusal.status != 404 {
            let path = String(refusal.path.prefix { $0 != "?" })
            let item = try #require(document.paths[OpenAPI.Path(rawValue: path)]?.pathItemValue, "\(path) is not in the document")
            let method = try #require(OpenAPI.BuiltinHttpMethod(rawValue: refusal.method))
            let operation = try #require(item.for(method), "\(refusal.method) \(path) is not in the document")
            #expect(operation.responses[.status(code: refusal.status)] != nil, "\(refusal): \(refusal.status) is not documented for \(refusal.method) \(path)")
        }
    }
}
