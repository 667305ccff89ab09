import Foundation
import ReferralEvents

/// The head file: the log's last position and hash, kept outside the store so `verify
/// --head` can tell a truncated or rewritten log from a sound one.
///
/// `{"hash":"…","position":42,"recordedAt":"2024-03-01T09:30:00.000Z"}`
enum HeadFile {
    static func encode(_ head: LogHead) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(head), as: UTF8.self) + "\n"
    }

    static func read(_ path: String) throws -> LogHead {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError.notFound("there is no head file \(path); write one with `referral head --out FILE`")
        }
        let data: Data
        do { data = try FileSystem.read(path) } catch {
            throw CLIError.storage("cannot read the head file \(path): \(error)")
        }
        guard let head = try? JSONDecoder().decode(LogHead.self, from: data) else {
            throw CLIError.invalidData("\(path) is not a head file: expected JSON with \"position\" (a number) and \"hash\" (64 hex digits), as `referral head --out FILE` writes")
        }
        guard head.position == 0 || Digest(hex: head.hash) != nil else {
            throw CLIError.invalidData("\(path): \"hash\" must be 64 hex digits, not '\(head.hash)'")
        }
        return head
    }

    /// Writes the head file whole (a symbolic link is followed, not replaced).
    static func write(_ head: LogHead, to path: String) throws {
        try FileOutput.write(try encode(head), to: path)
    }
}
