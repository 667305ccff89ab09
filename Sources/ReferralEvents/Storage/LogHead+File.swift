import Foundation

extension LogHead {
    /// Writes the head as JSON to `path`, replacing any earlier head file atomically.
    ///
    /// Keep the file outside the store (another disk, another machine, a signed mail): the
    /// log's hash chain proves the events were not changed, but only a head kept elsewhere
    /// proves the log was not truncated or rolled back. `verify(expectedHead:)` checks it.
    ///
    /// ```json
    /// {"hash":"9f2c…","position":1234,"recordedAt":"2024-06-01T10:00:00.000Z"}
    /// ```
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data: Data
        do {
            data = try encoder.encode(self)
        } catch {
            throw LogError(.invalidInput, "cannot encode the head: \(error)")
        }
        do {
            try (data + Data("\n".utf8)).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw LogError(.storage, "cannot write the head file \(path): \(error.localizedDescription)")
        }
    }

    /// Reads a head file written by `write(to:)`.
    ///
    /// - Throws: `LogError` `.notFound` if the file is missing; `.invalidInput` if it is not a
    ///   head (bad JSON, a hash that is not 64 hex digits, a hash without a position).
    public static func read(from path: String) throws -> LogHead {
        guard FileManager.default.fileExists(atPath: path) else {
            throw LogError(.notFound, "no head file at \(path); export one with the store's current head first")
        }
        let data: Data
        do {
            data = try FileSystem.read(path)
        } catch {
            throw LogError(.storage, "cannot read the head file \(path): \(error)")
        }
        let head: LogHead
        do {
            head = try JSONDecoder().decode(LogHead.self, from: data)
        } catch {
            throw LogError(.invalidInput, "\(path) is not a head file (JSON with position, hash and recordedAt): \(error)")
        }
        guard Digest(hex: head.hash) != nil else {
            throw LogError(.invalidInput, "the head file \(path) has hash '\(head.hash.prefix(80))', not 64 hex digits")
        }
        return head
    }
}
