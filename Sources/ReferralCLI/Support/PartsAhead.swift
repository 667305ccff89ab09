import Foundation
import ReferralEvents

/// Reads and parses an import's lines on a thread of its own, a part at a time, while the
/// importing thread appends the part before.
///
/// Parsing is more than half of an import's CPU (a million events: 24 s to parse, about 19 s
/// to append), and the write transaction is held for the whole import, so parsing ahead
/// shortens both the import and the time other writers wait. At most two parts wait in
/// line, so memory stays bounded whichever side is faster.
final class PartsAhead: @unchecked Sendable {
    /// What the parser hands over, in the input's order.
    enum Item {
        /// Events, and how far into the input they end (bytes).
        case part([CloudEventLines.Entry], offset: Int)
        case badLine(ImportError)
        /// The input is read to its end (or as far as asked).
        case end
        /// The input could not be read.
        case failed(ImportError)
    }

    private let reader: CloudEventLines.Reader
    private let partSize: Int
    private let maxErrors: Int
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var items: [Item] = []
    private var partsWaiting = 0
    private var cancelled = false
    private var eventsWanted = true
    private var ended = false

    private static let partsAhead = 2

    init(_ reader: CloudEventLines.Reader, partSize: Int, maxErrors: Int) {
        self.reader = reader
        self.partSize = partSize
        self.maxErrors = maxErrors
    }

    /// Starts parsing on a new thread.
    func start() {
        let thread = Thread { self.run() }
        thread.name = "referral.import-parts"
        thread.start()
    }

    /// The next item, waiting for it.
    func next() -> Item {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty { condition.wait() }
        let item = items.removeFirst()
        if case .part = item {
            partsWaiting -= 1
            condition.broadcast()
        }
        return item
    }

    /// From now on only bad lines are wanted (an event was refused): the parser stops
    /// making parts.
    func onlyBadLines() {
        condition.lock()
        eventsWanted = false
        condition.unlock()
    }

    /// Stops the parser and waits until it has stopped. Safe to call again.
    func cancel() {
        condition.lock()
        defer { condition.unlock() }
        cancelled = true
        condition.broadcast()
        while !ended { condition.wait() }
    }

    private func run() {
        defer {
            condition.lock()
            ended = true
            condition.broadcast()
            condition.unlock()
        }
        var part: [CloudEventLines.Entry] = []
        part.reserveCapacity(partSize)
        var badLines = 0
        do {
            while badLines < maxErrors, !isCancelled, let next = try reader.next() {
                switch next {
                case .failure(let error):
                    badLines += 1
                    push(.badLine(error))
                case .success(let entry):
                    // After a bad line, or once events are no longer wanted, only bad lines matter.
                    guard badLines == 0, wantsEvents else { continue }
                    part.append(entry)
                    if part.count == partSize {
                        push(.part(part, offset: reader.offset))
                        part.removeAll(keepingCapacity: true)
                    }
                }
            }
            if badLines == 0, !part.isEmpty { push(.part(part, offset: reader.offset)) }
            push(.end)
        } catch {
            push(.failed(error))
        }
    }

    private var isCancelled: Bool {
        condition.lock()
        defer { condition.unlock() }
        return cancelled
    }

    private var wantsEvents: Bool {
        condition.lock()
        defer { condition.unlock() }
        return eventsWanted
    }

    /// Hands `item` over, waiting while two parts are already waiting.
    private func push(_ item: Item) {
        condition.lock()
        defer { condition.unlock() }
        if case .part = item {
            while partsWaiting >= Self.partsAhead, !cancelled { condition.wait() }
            partsWaiting += 1
        }
        items.append(item)
        condition.broadcast()
    }
}
