/// The OpenAPI 3 description of protocol v1, served at `/v1/openapi.yaml`.
/// `docs/openapi.yaml` in the repository is the same text (a test keeps
/// them identical); edit both together.
enum OpenAPIDocument {
    static let yaml = """
openapi: 3.0.3
info:
  title: readsync sync protocol
  version: "2"
  description: |
    Version 2 of the protocol between `readsync client sync` and `readsync serve`.
    JSON over HTTP. Every answer carries the headers `X-ReadSync-Protocol` (the
    protocol version) and, on sync endpoints, `X-ReadSync-Epoch` (the server
    database's identity; a client that sees a new epoch sends everything again
    and pulls from zero). Clients send `X-ReadSync-Protocol: 2`; another
    version (in the header or the body) is refused with 400
    `unsupported_protocol`, naming both.

    The unit is an entity with its changed fields, each field one version of
    one register with its clock. The server merges each pushed field into the
    user's fields with the same rule as the client (larger hybrid-logical
    timestamp wins, version vectors take the pointwise maximum) and gives
    every version it did not already have a per-user, monotonically
    increasing sequence number; it keeps, per field, the versions no accepted
    write has seen (one, unless concurrent writes are unresolved). Pushing a
    batch twice changes nothing. Pulls return the versions after a cursor, in
    sequence order, a run of one entity's fields as one entity.

    Compression: a request body may be sent with `Content-Encoding: gzip`
    (it may inflate to at most 16 MiB); answers of 1 KiB or more are gzipped
    when the request's `Accept-Encoding` allows it.
servers:
  - url: http://127.0.0.1:8080
paths:
  /health:
    get:
      summary: Liveness, protocol version and epoch.
      responses:
        "200":
          description: The server is up.
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Health" }
  /v1/openapi.yaml:
    get:
      summary: This document.
      responses:
        "200":
          description: The OpenAPI document.
          content:
            application/yaml: {}
  /v1/push:
    post:
      summary: Merge a batch of the client's outbox.
      security: [{ bearer: [] }]
      parameters:
        - $ref: "#/components/parameters/ProtocolHeader"
      requestBody:
        required: true
        description: At most 16 MiB and 1,000 field versions.
        content:
          application/json:
            schema: { $ref: "#/components/schemas/PushRequest" }
      responses:
        "200":
          description: The whole batch is merged (all or nothing).
          headers:
            X-ReadSync-Epoch: { $ref: "#/components/headers/Epoch" }
          content:
            application/json:
              schema: { $ref: "#/components/schemas/PushResponse" }
        "400": { $ref: "#/components/responses/BadRequest" }
        "401": { $ref: "#/components/responses/Unauthorized" }
        "413": { $ref: "#/components/responses/TooLarge" }
        "415":
          description: "`bad_request`: a Content-Encoding other than gzip."
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Error" }
        "422":
          description: "`clock_skew`: a change is stamped more than 5 minutes ahead of the server's clock; the message names the skew."
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Error" }
  /v1/changes:
    get:
      summary: The user's changes after a cursor, in sequence order.
      security: [{ bearer: [] }]
      parameters:
        - $ref: "#/components/parameters/ProtocolHeader"
        - name: after
          in: query
          description: The cursor (the `next` of the previous page); 0 for everything.
          schema: { type: integer, format: int64, minimum: 0, default: 0 }
        - name: limit
          in: query
          description: Most field versions in the page.
          schema: { type: integer, minimum: 1, maximum: 1000, default: 1000 }
        - name: node
          in: query
          description: The asking device's node id; the versions it pushed are left out.
          schema: { type: string }
      responses:
        "200":
          description: One page.
          headers:
            X-ReadSync-Epoch: { $ref: "#/components/headers/Epoch" }
          content:
            application/json:
              schema: { $ref: "#/components/schemas/PullResponse" }
        "400": { $ref: "#/components/responses/BadRequest" }
        "401": { $ref: "#/components/responses/Unauthorized" }
        "413": { $ref: "#/components/responses/TooLarge" }
components:
  securitySchemes:
    bearer:
      type: http
      scheme: bearer
      description: A 64-hex-digit token from `readsync user add` or `readsync user token`.
  parameters:
    ProtocolHeader:
      name: X-ReadSync-Protocol
      in: header
      schema: { type: string, enum: ["1"] }
  headers:
    Epoch:
      description: The server database's epoch.
      schema: { type: string }
  responses:
    BadRequest:
      description: "Malformed request: `bad_request` or `unsupported_protocol`."
      content:
        application/json:
          schema: { $ref: "#/components/schemas/Error" }
    Unauthorized:
      description: "`unauthorized`: missing, unknown or revoked token."
      content:
        application/json:
          schema: { $ref: "#/components/schemas/Error" }
    TooLarge:
      description: "`too_large`: body, batch or page size over the limit."
      content:
        application/json:
          schema: { $ref: "#/components/schemas/Error" }
  schemas:
    Health:
      type: object
      required: [status, protocol, epoch]
      properties:
        status: { type: string, enum: [ok] }
        protocol: { type: integer }
        epoch: { type: string }
    EntityChange:
      type: object
      required: [kind, entity, fields]
      properties:
        kind:
          type: string
          pattern: "^[a-z][a-z0-9_]{0,63}$"
          description: |
            article, read_state, note or tag. Any other name of this pattern is a kind a newer
            version knows: its entities are accepted, kept and passed on.
        entity:
          type: string
          description: |
            article and read_state: 16 hex digits; note: a UUID; tag: `<article id>/<tag>`;
            a newer version's kind: 1–512 bytes without control characters.
        fields:
          type: array
          items: { $ref: "#/components/schemas/FieldVersion" }
    FieldVersion:
      type: object
      required: [field, value, timestamp, vector]
      properties:
        field:
          type: string
          description: |
            article: url, title, author, site, published, content, excerpt, word_count, added_at, deleted;
            read_state: status, archived, favorite, progress, read_at;
            note: article_id, body, quote, created_at, deleted; tag: present.
            Any other name of 1–64 of `[a-z0-9_]` starting with a letter is a field a newer
            version knows: accepted with any value, kept and passed on.
        value:
          description: null, boolean, number or string.
          nullable: true
        timestamp:
          type: string
          description: "Hybrid logical clock: `<16 hex ms>.<8 hex counter>.<node>`; sorts as text."
          example: 0000019aa8d1b2c3.00000000.6048dbef4406bae7
        vector:
          type: object
          description: Version vector, node id → count of that node's writes absorbed.
          additionalProperties: { type: integer, format: int64 }
    PushRequest:
      type: object
      required: [protocol, node, entities]
      properties:
        protocol: { type: integer, enum: [2] }
        node: { type: string, description: The pushing device's node id. }
        entities:
          type: array
          description: At most 1,000 fields in all.
          items: { $ref: "#/components/schemas/EntityChange" }
    PushResponse:
      type: object
      required: [protocol, epoch, accepted, ignored, serverTime]
      properties:
        protocol: { type: integer }
        epoch: { type: string }
        accepted: { type: integer, description: Field versions the server did not have. }
        ignored: { type: integer, description: Field versions it already had or that a merged write supersedes. }
        serverTime: { type: integer, format: int64, description: Milliseconds since 1970. }
    PullResponse:
      type: object
      required: [protocol, epoch, entities, next, more, latest, serverTime]
      properties:
        protocol: { type: integer }
        epoch: { type: string }
        entities:
          type: array
          items: { $ref: "#/components/schemas/EntityChange" }
        next: { type: integer, format: int64, description: The cursor for the next page. }
        more: { type: boolean, description: Whether another page follows. }
        latest:
          type: integer
          format: int64
          description: The user's latest sequence number; a client whose cursor is beyond it resynchronises.
        serverTime: { type: integer, format: int64 }
    Error:
      type: object
      required: [error]
      properties:
        serverTime:
          type: integer
          format: int64
          description: With `clock_skew`, the server's clock (ms since 1970).
        error:
          type: object
          required: [code, message]
          properties:
            code:
              type: string
              enum: [bad_request, unsupported_protocol, unauthorized, not_found, too_large, clock_skew, internal]
            message: { type: string }

"""
}
