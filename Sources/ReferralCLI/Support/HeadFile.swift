import Foundation
import ReferralEvents

/// The head file: the log's last position and hash, and the access log's last entry and
/// hash, kept outside the store so `verify --head` can tell a truncated or rewritten log or
/// access log from a sound one.
///
/// `{"accessLog":{"entries":7,"hash":"…"},"hash":"…","position":42,"recordedAt":"2024-03-01T09:30:00.000Z"}`
///
/// `accessLog` is absent in head files written before November 2026 (and for a store whose
/// access log does not exist yet); only the event log is checked against those.
enum HeadFile {
    /// What a head file holds.
    struct Contents: Codable {
        var position: UInt64
        var hash: String
        var recordedAt: Timestamp?
        var accessLog: AccessLogHead?

        init(_ log: LogHead, accessLog: AccessLogHead?) {
            position = log.position
            hash = log.hash
            recordedAt = log.recordedAt
            self.accessLog = accessLog
        }

        var log: LogHead { LogHead(position: position, hash: hash, recordedAt: recordedAt) }
    }

    static func encode(_ head: Contents) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(head), as: UTF8.self) + "\n"
    }

    static func read(_ path: String) throws -> Contents {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError.notFound("there is no head file \(path); write one with `referral head --out FILE`")
        }
        let data: Data
        do { data = try FileSystem.read(path) } catch {
            throw CLIError.storage("cannot read the head file \(path): \(error)")
        }
        guard let head = try? JSONDecoder().decode(Contents.self, from: data) else {
            throw CLIError.invalidData("\(path) is not a head file: expected JSON with \"position\" (a number) and \"hash\" (64 hex digits), as `referral head --out FILE` writes")
        }
        guard head.position == 0 || Digest(hex: head.hash) != nil else {
            throw CLIError.invalidData("\(path): \"hash\" must be 64 hex digits, not '\(head.hash)'")
        }
        if let access = head.accessLog, Digest(hex: access.hash) == nil {
            throw CLIError.invalidData("\(path): \"accessLog.hash\" must be 64 hex digits, not '\(access.hash)'")
        }
        return head
    }

    /// Writes the head file whole (a symbolic link is followed, not replaced).
    static func write(_ head: Contents, to path: String) throws {
        try FileOutput.write(try encode(head), to: path)
    }
}
