import ReferralEvents

/// The folded state of every case of one fold, packed: what `CaseState` holds, in about a
/// quarter of the memory.
///
/// A full rebuild keeps every case's state until its row is written (a case can change at
/// any later position: an outcome a year after the close, a reopening), so the state's size
/// per case is the rebuild's memory. `CaseState` spends a struct and up to six Swift
/// arrays on a case (about 800 bytes with allocator overhead at 10M events); here a case is
/// one fixed 48-byte head plus its episodes, consents, referrals, contacts, placements and
/// outcomes as tagged records of 32-bit words, appended in event order to a chain of
/// 8-word chunks in one shared pool (about 150 bytes a case on the demo data). Nothing is
/// allocated per case; the pool and the heads grow in fixed blocks, so growing never copies.
///
/// The fold applies events here with the same rules as `CaseState.apply` (kept side by
/// side, and checked against each other by the projection tests), and rows are derived by
/// unpacking one case at a time into a reused `CaseState` (`load(_:into:)`).
final class CaseTable {
    struct Head {
        var resident = Pseudonym(high: 0, low: 0)
        var area: UInt32 = 0
        var organisation: UInt32 = 0
        var liaison: UInt32 = 0
        var targetGroup: UInt32 = 0
        var lastActivity: Day = .min
        /// The last chunk of the record chain (0: none yet). The chain is a ring: the last
        /// chunk's link word points back to the first, which saves a field (48 bytes a head).
        var last: UInt32 = 0
        /// Record words in the chain.
        var words: UInt32 = 0
        var ageBand: UInt8 = 0
        var gender: UInt8 = 0
        /// Bit 0 exists, bit 1 open.
        var flags: UInt8 = 0

        var exists: Bool { flags & 1 != 0 }
        var isOpen: Bool { flags & 2 != 0 }
    }

    /// Record tags (low 4 bits of a record's first word); small fields ride in its upper bits.
    enum Tag: UInt32 {
        /// opened, closed
        case episode = 1
        /// bit 8 active; id low, id high, valid until
        case consent = 2
        /// byte 1 kind, byte 2 answer; id low, id high, from, to, made
        case referral = 3
        /// day
        case contact = 4
        /// byte 1 kind, byte 2 outcome; id low, id high, start, end
        case placement = 5
        /// byte 1 months, byte 2 status; day
        case outcome = 6
        /// A referral whose from and to ids are both under 2^16: byte 1 kind, byte 2 answer;
        /// id low, id high, from | to << 16, made
        case referralShort = 7
        /// A contact whose day fits in 28 bits: the day in bits 4…31 (no more words)
        case contactShort = 8
        /// An outcome whose months and status are under 16 and whose day fits in 20 bits:
        /// months in bits 4…7, status in bits 8…11, the day in bits 12…31 (no more words)
        case outcomeShort = 9

        /// Words after the tag word.
        var length: Int {
            switch self {
            case .episode: 2
            case .consent: 3
            case .referral: 5
            case .contact: 1
            case .placement: 4
            case .outcome: 1
            case .referralShort: 4
            case .contactShort, .outcomeShort: 0
            }
        }
    }

    /// Name ids of this table are translated with this map when read (`absorb` of another
    /// share's fold, whose names were interned in its own table); empty: as stored.
    var nameMap: [UInt32] = []

    @inline(__always)
    private func name(_ id: UInt32) -> UInt32 { Int(id) < nameMap.count ? nameMap[Int(id)] : id }

    static let chunkWords = 8
    private static let headBlockShift = 16
    private static let wordBlockShift = 20
    private static let headBlockBytes = MemoryLayout<Head>.stride << headBlockShift
    private static let wordBlockBytes = MemoryLayout<UInt32>.stride << wordBlockShift

    /// The blocks of heads and of words, in directories of fixed size that are `let`s: the
    /// fold reads them for every word it touches, and reading a class's `var` (an array
    /// of blocks, as they were) costs a dynamic exclusivity check each time
    /// (`swift_beginAccess`: about a tenth of a rebuild's instructions). Slots below the
    /// block counts are set; the rest are never read.
    private static let maxBlocks = 4096
    private let headBlocks: UnsafeMutablePointer<UnsafeMutablePointer<Head>>
    private let wordBlocks: UnsafeMutablePointer<UnsafeMutablePointer<UInt32>>
    private var headBlockCount = 0
    private var wordBlockCount = 0
    private(set) var count = 0
    /// Chunks handed out; chunk 0 is never used, so 0 can mean "none".
    private var chunks = 1

    init() {
        headBlocks = .allocate(capacity: Self.maxBlocks)
        wordBlocks = .allocate(capacity: Self.maxBlocks)
    }

    deinit {
        for k in 0..<headBlockCount { headBlocks[k].deinitialize(count: 1 << Self.headBlockShift); LargeBlocks.free(headBlocks[k], bytes: Self.headBlockBytes) }
        for k in 0..<wordBlockCount { LargeBlocks.free(wordBlocks[k], bytes: Self.wordBlockBytes) }
        headBlocks.deallocate()
        wordBlocks.deallocate()
    }

    /// Bytes held, for the benchmark's breakdown.
    var bytesHeld: Int {
        headBlockCount * Self.headBlockBytes + wordBlockCount * Self.wordBlockBytes
    }

    // MARK: Heads

    @inline(__always)
    private func headPointer(_ i: Int) -> UnsafeMutablePointer<Head> {
        headBlocks[i >> Self.headBlockShift] + (i & ((1 << Self.headBlockShift) - 1))
    }

    /// Case `i`'s head, its name ids translated (`nameMap`).
    @inline(__always)
    func head(_ i: Int) -> Head {
        var h = headPointer(i).pointee
        if !nameMap.isEmpty {
            h.area = name(h.area); h.organisation = name(h.organisation)
            h.liaison = name(h.liaison); h.targetGroup = name(h.targetGroup)
        }
        return h
    }

    // Reads that only bring memory into the cache (see `ProjectionFold.apply(_:)`): each
    // returns something of what it read, so the reads are not optimised away.

    /// Case `i`'s last chunk (reads its head).
    @inline(__always)
    func touchHead(_ i: Int) -> UInt32 { headPointer(i).pointee.last }

    /// Reads the first word of case `i`'s head (a 48-byte head can span two cache lines;
    /// `touchHead` reads the end of it) and returns it.
    @inline(__always)
    func touchHeadStart(_ i: Int) -> UInt32 { UInt32(truncatingIfNeeded: headPointer(i).pointee.resident.high) }

    /// Reads the link word of `chunk` (0: none) and returns it.
    @inline(__always)
    func touchChunk(_ chunk: UInt32) -> UInt32 { chunk == 0 ? 0 : word(Int(chunk) * Self.chunkWords).pointee }

    /// Where reads that only bring memory into the cache leave their result, so that they
    /// are not optimised away.
    var sink: UInt32 = 0

    /// Reads every chunk of case `i`'s records (for events that search them).
    @inline(__always)
    func touchChain(_ i: Int) -> UInt32 {
        let h = headPointer(i).pointee
        guard h.last != 0 else { return 0 }
        var c = word(Int(h.last) * Self.chunkWords).pointee
        var n = (Int(h.words) + Self.chunkWords - 2) / (Self.chunkWords - 1)
        var s: UInt32 = 0
        while n > 1 {
            s &+= c
            c = word(Int(c) * Self.chunkWords).pointee
            n -= 1
        }
        return s
    }

    /// Adds an empty (not yet opened) case; its index.
    @discardableResult
    func append() -> Int {
        if count >> Self.headBlockShift == headBlockCount {
            // 4,096 blocks of 65,536 cases: 268 million cases, far past any municipality.
            precondition(headBlockCount < Self.maxBlocks, "more than \(Self.maxBlocks << Self.headBlockShift) cases in one fold")
            let b = LargeBlocks.allocate(Self.headBlockBytes).bindMemory(to: Head.self, capacity: 1 << Self.headBlockShift)
            b.initialize(repeating: Head(), count: 1 << Self.headBlockShift)
            headBlocks[headBlockCount] = b
            headBlockCount += 1
        }
        count += 1
        return count - 1
    }

    /// Forgets case `i`'s state (its chunks are left unused: resets are rare).
    func reset(_ i: Int) { headPointer(i).pointee = Head() }

    // MARK: Words

    @inline(__always)
    private func word(_ w: Int) -> UnsafeMutablePointer<UInt32> {
        wordBlocks[w >> Self.wordBlockShift] + (w & ((1 << Self.wordBlockShift) - 1))
    }

    private func newChunk() -> UInt32 {
        let c = chunks
        let w = c * Self.chunkWords
        if w >> Self.wordBlockShift == wordBlockCount {
            // 4,096 blocks of 4 MiB: 16 GiB of records, far past any municipality.
            precondition(wordBlockCount < Self.maxBlocks, "more than \(Self.maxBlocks * 4) MiB of case records in one fold")
            wordBlocks[wordBlockCount] = LargeBlocks.allocate(Self.wordBlockBytes).bindMemory(to: UInt32.self, capacity: 1 << Self.wordBlockShift)
            wordBlockCount += 1
        }
        chunks += 1
        word(w).pointee = 0
        return UInt32(c)
    }

    /// Appends one word to case `h`'s chain.
    @inline(__always)
    private func push(_ h: UnsafeMutablePointer<Head>, _ v: UInt32) {
        let payload = Self.chunkWords - 1
        let used = Int(h.pointee.words)
        if h.pointee.last == 0 {
            let c = newChunk()
            word(Int(c) * Self.chunkWords).pointee = c
            h.pointee.last = c
        } else if used % payload == 0 {
            // Link the new chunk in after the last one, before the first (the ring).
            let c = newChunk()
            let lastLink = word(Int(h.pointee.last) * Self.chunkWords)
            word(Int(c) * Self.chunkWords).pointee = lastLink.pointee
            lastLink.pointee = c
            h.pointee.last = c
        }
        let offset = used % payload + 1
        word(Int(h.pointee.last) * Self.chunkWords + offset).pointee = v
        h.pointee.words += 1
    }

    private func push(_ h: UnsafeMutablePointer<Head>, _ words: UInt32...) {
        for v in words { push(h, v) }
    }

    /// Walks case `i`'s words in order; `body` gets each record's tag word and the pool
    /// index of each of its words (so a record can be changed in place). Return false to stop.
    @inline(__always)
    private func records(_ i: Int, _ body: (Tag, UInt32, (Int) -> Int) -> Bool) {
        let h = headPointer(i).pointee
        guard h.last != 0 else { return }
        var chunk = Int(word(Int(h.last) * Self.chunkWords).pointee)
        var offset = 1
        var left = Int(h.words)
        var addresses: (Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0)
        while left > 0 {
            // Gather one record's word addresses (at most six).
            var n = 0
            var tagWord: UInt32 = 0
            var length = 0
            repeat {
                if offset == Self.chunkWords {
                    chunk = Int(word(chunk * Self.chunkWords).pointee)
                    offset = 1
                }
                let a = chunk * Self.chunkWords + offset
                switch n {
                case 0: addresses.0 = a; tagWord = word(a).pointee; length = (Tag(rawValue: tagWord & 0xF)?.length ?? 0) + 1
                case 1: addresses.1 = a
                case 2: addresses.2 = a
                case 3: addresses.3 = a
                case 4: addresses.4 = a
                default: addresses.5 = a
                }
                n += 1
                offset += 1
                left -= 1
            } while n < length && left > 0
            guard let tag = Tag(rawValue: tagWord & 0xF) else { return }
            let a = addresses
            let more = body(tag, tagWord) { k in
                switch k {
                case 0: a.0
                case 1: a.1
                case 2: a.2
                case 3: a.3
                case 4: a.4
                default: a.5
                }
            }
            if !more { return }
        }
    }

    @inline(__always)
    private func read(_ a: Int) -> UInt32 { word(a).pointee }

    @inline(__always)
    private func write(_ a: Int, _ v: UInt32) { word(a).pointee = v }

    @inline(__always)
    private static func split(_ id: UInt64) -> (UInt32, UInt32) { (UInt32(truncatingIfNeeded: id), UInt32(truncatingIfNeeded: id >> 32)) }

    @inline(__always)
    private static func day(_ w: UInt32) -> Day { Day(bitPattern: w) }

    @inline(__always)
    private static func word(_ d: Day) -> UInt32 { UInt32(bitPattern: d) }

    // MARK: Folding

    /// Interns the names a retracted case event carries, as `apply` would have on case `i`
    /// as it is, changing nothing else.
    ///
    /// A fold that leaves retracted events out as it reads (`ProjectionFold.run`) calls this
    /// instead of `apply`, so that names get the same ids as in a fold that applied them and
    /// then folded the stream again without them: the stored rows are the same bytes. (Not
    /// quite after a retracted `case-opened` (or `hours-agreement-made`): that fold saw the
    /// case (agreement) exist until its refold, so it interned the names of its later events
    /// early, and those of a second opening only at the refold. The ids can then be numbered
    /// differently; what they name, and every figure, is the same.)
    func internNames<N: NameTable>(_ i: Int, _ view: EventView, names: inout N) throws {
        let h = headPointer(i)
        let code = view.typeCode
        var r = BinaryReader(view.payloadBytes)
        if code == EventType.caseOpened.code {
            guard !h.pointee.exists else { return }
            _ = try r.pseudonym()
            for _ in 0..<4 { _ = try names.id(r.stringBytes()) }
            return
        }
        guard h.pointee.exists else { return }
        switch code {
        case EventType.caseAssigned.code:
            _ = try names.id(r.stringBytes())
        case EventType.referralMade.code:
            _ = try r.stringBytes()
            _ = try r.u8()
            _ = try names.id(r.stringBytes())
            _ = try names.id(r.stringBytes())
        default:
            break
        }
    }

    /// Applies one (non-retracted) case event to case `i`: the rules of `CaseState.apply`.
    func apply<N: NameTable>(_ i: Int, _ view: EventView, names: inout N) throws {
        let h = headPointer(i)
        let code = view.typeCode
        let day = Day(truncatingIfNeeded: view.occurredAt.date.daysSinceEpoch)
        var r = BinaryReader(view.payloadBytes)
        if code == EventType.caseOpened.code {
            guard !h.pointee.exists else { return }
            h.pointee.resident = try r.pseudonym()
            h.pointee.area = try names.id(r.stringBytes())
            h.pointee.organisation = try names.id(r.stringBytes())
            h.pointee.liaison = try names.id(r.stringBytes())
            h.pointee.targetGroup = try names.id(r.stringBytes())
            h.pointee.ageBand = try r.u8()
            h.pointee.gender = try r.u8()
            h.pointee.flags = 3
            h.pointee.lastActivity = day
            push(h, Tag.episode.rawValue, Self.word(day), Self.word(.none))
            return
        }
        guard h.pointee.exists else { return }
        if day > h.pointee.lastActivity { h.pointee.lastActivity = day }
        switch code {
        case EventType.caseAssigned.code:
            h.pointee.liaison = try names.id(r.stringBytes())
        case EventType.consentGiven.code:
            let id = Self.split(idHash(try r.stringBytes()))
            for _ in 0..<(try r.count()) { try r.skipString() }
            for _ in 0..<(try r.count()) { _ = try r.u8() }
            _ = try r.u8()
            let until = try r.present() ? try r.i32() : .none
            push(h, Tag.consent.rawValue | (h.pointee.isOpen ? 1 << 8 : 0), id.0, id.1, Self.word(until))
        case EventType.consentWithdrawn.code:
            let id = Self.split(idHash(try r.stringBytes()))
            records(i) { tag, t, a in
                guard tag == .consent, t & (1 << 8) != 0, read(a(1)) == id.0, read(a(2)) == id.1 else { return true }
                write(a(0), t & ~(1 << 8))
                return false
            }
        case EventType.referralMade.code:
            let id = Self.split(idHash(try r.stringBytes()))
            let kind = try r.u8()
            let from = try names.id(r.stringBytes())
            let to = try names.id(r.stringBytes())
            if from < 1 << 16 && to < 1 << 16 {
                push(h, Tag.referralShort.rawValue | UInt32(kind) << 8, id.0, id.1, from | to << 16, Self.word(day))
            } else {
                push(h, Tag.referral.rawValue | UInt32(kind) << 8, id.0, id.1, from, to, Self.word(day))
            }
        case EventType.referralAnswered.code:
            let id = Self.split(idHash(try r.stringBytes()))
            let accepted = try r.bool()
            records(i) { tag, t, a in
                guard tag == .referral || tag == .referralShort, (t >> 16) & 0xFF == 0, read(a(1)) == id.0, read(a(2)) == id.1 else { return true }
                write(a(0), t | (accepted ? 1 : 2) << 16)
                return false
            }
        case EventType.jobcenterContactHeld.code:
            if day >= -(1 << 27) && day < 1 << 27 {
                push(h, Tag.contactShort.rawValue | UInt32(bitPattern: day << 4))
            } else {
                push(h, Tag.contact.rawValue, Self.word(day))
            }
        case EventType.placementStarted.code:
            let id = Self.split(idHash(try r.stringBytes()))
            let kind = try r.u8()
            try r.skipString()
            let start = try r.i32()
            push(h, Tag.placement.rawValue | UInt32(kind) << 8 | 0xFF << 16, id.0, id.1, Self.word(start), Self.word(.none))
        case EventType.placementEnded.code:
            let id = Self.split(idHash(try r.stringBytes()))
            let end = try r.i32()
            let outcome = try r.u8()
            records(i) { tag, t, a in
                guard tag == .placement, read(a(1)) == id.0, read(a(2)) == id.1, Self.day(read(a(4))) == .none else { return true }
                write(a(4), Self.word(end))
                write(a(0), (t & ~(0xFF << 16)) | UInt32(outcome) << 16)
                return false
            }
        case EventType.outcomeRecorded.code:
            let months = try r.u8()
            let status = try r.u8()
            if months < 16 && status < 16 && day >= -(1 << 19) && day < 1 << 19 {
                push(h, Tag.outcomeShort.rawValue | UInt32(months) << 4 | UInt32(status) << 8 | UInt32(bitPattern: day << 12))
            } else {
                push(h, Tag.outcome.rawValue | UInt32(months) << 8 | UInt32(status) << 16, Self.word(day))
            }
        case EventType.caseClosed.code:
            guard h.pointee.isOpen else { return }
            h.pointee.flags &= ~2
            var lastEpisode = -1
            records(i) { tag, t, a in
                if tag == .episode { lastEpisode = a(2) }
                if tag == .consent { write(a(0), t & ~(1 << 8)) }
                return true
            }
            if lastEpisode >= 0 { write(lastEpisode, Self.word(day)) }
        case EventType.caseReopened.code:
            guard !h.pointee.isOpen else { return }
            h.pointee.flags |= 2
            push(h, Tag.episode.rawValue, Self.word(day), Self.word(.none))
        default:
            break
        }
    }

    // MARK: Unpacking

    /// Unpacks case `i` into `s`, reusing its arrays' storage.
    func load(_ i: Int, into s: inout CaseState) {
        let h = head(i)
        s.exists = h.exists
        s.resident = h.resident
        s.area = h.area; s.organisation = h.organisation; s.liaison = h.liaison; s.targetGroup = h.targetGroup
        s.ageBand = h.ageBand; s.gender = h.gender
        s.isOpen = h.isOpen
        s.lastActivity = h.lastActivity
        s.episodes.removeAll(keepingCapacity: true)
        s.consents.removeAll(keepingCapacity: true)
        s.referrals.removeAll(keepingCapacity: true)
        s.contacts.removeAll(keepingCapacity: true)
        s.placements.removeAll(keepingCapacity: true)
        s.outcomes.removeAll(keepingCapacity: true)
        records(i) { tag, t, a in
            func id() -> UInt64 { UInt64(read(a(1))) | UInt64(read(a(2))) << 32 }
            switch tag {
            case .episode:
                s.episodes.append(Episode(opened: Self.day(read(a(1))), closed: Self.day(read(a(2)))))
            case .consent:
                s.consents.append(ConsentState(id: id(), validUntil: Self.day(read(a(3))), active: t & (1 << 8) != 0))
            case .referral:
                s.referrals.append(ReferralState(id: id(), kind: UInt8(truncatingIfNeeded: t >> 8), from: name(read(a(3))), to: name(read(a(4))),
                                                 made: Self.day(read(a(5))), answer: UInt8(truncatingIfNeeded: t >> 16)))
            case .referralShort:
                let ends = read(a(3))
                s.referrals.append(ReferralState(id: id(), kind: UInt8(truncatingIfNeeded: t >> 8), from: name(ends & 0xFFFF), to: name(ends >> 16),
                                                 made: Self.day(read(a(4))), answer: UInt8(truncatingIfNeeded: t >> 16)))
            case .contact:
                s.contacts.append(Self.day(read(a(1))))
            case .contactShort:
                s.contacts.append(Day(bitPattern: t) >> 4)
            case .outcomeShort:
                s.outcomes.append(OutcomeState(months: UInt8(truncatingIfNeeded: t >> 4) & 0xF, status: UInt8(truncatingIfNeeded: t >> 8) & 0xF,
                                               day: Day(bitPattern: t) >> 12))
            case .placement:
                s.placements.append(PlacementState(id: id(), kind: UInt8(truncatingIfNeeded: t >> 8), start: Self.day(read(a(3))),
                                                   end: Self.day(read(a(4))), outcome: UInt8(truncatingIfNeeded: t >> 16)))
            case .outcome:
                s.outcomes.append(OutcomeState(months: UInt8(truncatingIfNeeded: t >> 8), status: UInt8(truncatingIfNeeded: t >> 16),
                                               day: Self.day(read(a(1)))))
            }
            return true
        }
    }

    /// Case `i` unpacked.
    func state(_ i: Int) -> CaseState {
        var s = CaseState()
        load(i, into: &s)
        return s
    }
}
