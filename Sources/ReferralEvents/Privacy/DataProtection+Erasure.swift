import Foundation

/// What `forget` did for one resident.
public struct ErasureResult: Sendable, Hashable, Codable {
    public var resident: Pseudonym
    /// The position of the `ResidentErased` event.
    public var position: UInt64
    /// The erasure was already in the log (a re-run after an interruption); no new event.
    public var alreadyRecorded: Bool
    /// A key existed and was destroyed by this call (false if it was already gone, or the
    /// resident never had sealed details).
    public var keyDestroyed: Bool
}

/// One erasure to carry out: whom, why, and under which legal basis.
public struct ErasureRequest: Sendable, Hashable {
    public var resident: Pseudonym
    public var reason: String
    public var legalBasis: String

    public init(resident: Pseudonym, reason: String, legalBasis: String) {
        self.resident = resident
        self.reason = reason
        self.legalBasis = legalBasis
    }
}

extension DataProtection {
    /// Erases a resident (GDPR art. 17): records `ResidentErased`, then destroys their key.
    ///
    /// The order is chosen for crashes. The event is appended (and synced) first, and from
    /// then on every read through `DataProtection` treats the details as erased, key or no
    /// key. If the process dies before the key is gone, running `forget` again finds the
    /// event, appends nothing, and destroys the key; so does `completePendingErasures`.
    /// The other order could leave a person erased with no record of who did it and why.
    ///
    /// - Throws: `.notFound` if the store knows nothing of the resident; `.invalidInput`
    ///   for an empty reason or legal basis, or one that holds a CPR number; `.conflict`
    ///   if someone else decided about the resident meanwhile (run it again).
    @discardableResult
    public func forget(resident: Pseudonym, reason: String, legalBasis: String, by actor: ReaderIdentity) throws -> ErasureResult {
        try forget([ErasureRequest(resident: resident, reason: reason, legalBasis: legalBasis)], by: actor)[0]
    }

    /// Erases several residents: one atomic append of all their `ResidentErased` events
    /// (all or none), then one destruction of all their keys (one compaction of the key
    /// store). An erasure already recorded but not carried out (interrupted) is completed,
    /// not recorded twice. A resident who came back after an erasure was carried out (a
    /// case opened with new details, so a new key) gets a new decision: the earlier one
    /// never covered the new key.
    @discardableResult
    public func forget(_ requests: [ErasureRequest], by actor: ReaderIdentity) throws -> [ErasureResult] {
        guard !requests.isEmpty else { return [] }
        guard Set(requests.map(\.resident)).count == requests.count else {
            throw LogError(.invalidInput, "a resident is named twice in one erasure; name each once")
        }
        for r in requests { try DataProtection.checkDecisionText(r.reason, r.legalBasis) }
        try checkKnown(requests.map(\.resident))

        var proposed: [ProposedEvent] = []
        var expected: [StreamID: ExpectedVersion] = [:]
        var prior: [Pseudonym: UInt64] = [:]
        let now = store.clock()
        for r in requests {
            let stream = StreamID.resident(r.resident)
            let events = try store.readStream(stream)
            // Carried out: nothing is left to erase. Pending: finish it. A resident who came
            // back needs a decision of its own, as one never erased does.
            switch try DataProtection.erasureStatus(of: r.resident, in: events, keys: keys) {
            case .carriedOut(let last), .pending(let last):
                prior[r.resident] = last
                continue
            case .none, .cameBack:
                break
            }
            expected[stream] = events.last.map { .exactly($0.envelope.version) } ?? .noStream
            proposed.append(ProposedEvent(stream: stream, payload: .residentErased(ResidentErased(resident: r.resident, reason: r.reason, legalBasis: r.legalBasis)),
                                          occurredAt: now, actor: actor.actor, organisation: actor.organisation))
        }
        var positions: [Pseudonym: UInt64] = prior
        if !proposed.isEmpty {
            let result = try store.append(proposed, expecting: expected)
            for (p, e) in zip(proposed, result.events) {
                if case .residentErased(let x) = p.payload { positions[x.resident] = e.position }
            }
        }
        // Only now, with the decision durably recorded, does the key go.
        let destroyed = try keys.destroyKeys(erasedAt: positions)
        return requests.map { r in
            ErasureResult(resident: r.resident, position: positions[r.resident] ?? 0, alreadyRecorded: prior[r.resident] != nil,
                          keyDestroyed: destroyed.contains(r.resident))
        }
    }

    /// Records that a request to erase `resident` was refused, e.g. under the
    /// municipality's duty to keep records (`ErasureRefused`). The key is kept.
    ///
    /// - Returns: the position of the event.
    /// - Throws: `.ruleViolation` (rule `already-erased`) if the resident is erased and has
    ///   not come back since (a refusal can no longer apply); `.invalidInput` if the texts
    ///   are empty or hold a CPR number.
    @discardableResult
    public func refuseErasure(resident: Pseudonym, reason: String, legalBasis: String, by actor: ReaderIdentity) throws -> UInt64 {
        try DataProtection.checkDecisionText(reason, legalBasis)
        try checkKnown([resident])
        switch try DataProtection.erasureStatus(of: resident, in: try store.readStream(.resident(resident)), keys: keys) {
        case .carriedOut(let done), .pending(let done):
            var e = LogError(.ruleViolation, "resident \(resident) was erased at position \(done); an erasure that has happened cannot be refused")
            e.rule = .alreadyErased
            throw e
        case .none, .cameBack:
            break
        }
        let stream = StreamID.resident(resident)
        let version = try store.streamVersion(stream)
        let event = ProposedEvent(stream: stream, payload: .erasureRefused(ErasureRefused(resident: resident, reason: reason, legalBasis: legalBasis)),
                                  occurredAt: store.clock(), actor: actor.actor, organisation: actor.organisation)
        return try store.append(event, expected: version == 0 ? .noStream : .exactly(version)).position
    }

    /// Residents whose latest erasure is recorded but not carried out (an interrupted
    /// `forget`): a key exists that existed when the erasure was recorded. In pseudonym order.
    ///
    /// A resident who came back after an erasure was carried out has a new key, which no
    /// recorded erasure covers: they are not pending (erasing them again needs a new
    /// decision, `forget`). Erasures carried out by builds before November 2026 left no
    /// record in the key store, so for them any key is taken as the erased one.
    public func pendingErasures() throws -> [Pseudonym] {
        try pendingErasurePositions().keys.sorted()
    }

    /// Destroys the keys of every resident whose erasure is recorded but not carried out
    /// (`pendingErasures`); returns those whose key was destroyed.
    @discardableResult
    public func completePendingErasures() throws -> [Pseudonym] {
        let pending = try pendingErasurePositions()
        guard !pending.isEmpty else { return [] }
        return try keys.destroyKeys(erasedAt: pending).sorted()
    }

    /// The pending residents, each with the position of the erasure to carry out.
    private func pendingErasurePositions() throws -> [Pseudonym: UInt64] {
        let directory = try ResidentDirectory.scan(store)
        var pending: [Pseudonym: UInt64] = [:]
        for r in directory.residents where directory.erasure(of: r) != nil {
            if let position = try Self.pendingErasurePosition(of: r, store: store, keys: keys) { pending[r] = position }
        }
        return pending
    }

    /// The position of `resident`'s latest erasure if it is recorded but their key, which it
    /// covers, still exists (an interrupted `forget`); nil otherwise.
    static func pendingErasurePosition(of resident: Pseudonym, store: EventStore, keys: KeyStore) throws -> UInt64? {
        if case .pending(let last) = try erasureStatus(of: resident, in: try store.readStream(.resident(resident)), keys: keys) { return last }
        return nil
    }

    /// Where a resident stands with their latest unretracted erasure.
    enum ErasureStatus {
        /// No erasure is recorded.
        case none
        /// Recorded at this position, but the key it covers still exists (an interrupted `forget`).
        case pending(UInt64)
        /// Recorded at this position and carried out: the key is gone.
        case carriedOut(UInt64)
        /// Carried out, and the resident came back since: the key there now is a new one,
        /// which no recorded erasure covers.
        case cameBack
    }

    /// The status of `resident`'s latest erasure among `events` (their `resident-` stream).
    /// Erasures carried out by builds before November 2026 left no record in the key store
    /// (`KeyStore.erasureCarriedOut`), so for them any key is taken as the erased one.
    static func erasureStatus(of resident: Pseudonym, in events: [RecordedEvent], keys: KeyStore) throws -> ErasureStatus {
        guard let last = latestErasurePosition(in: events) else { return .none }
        let carriedOut = try keys.erasureCarriedOut(resident).map { $0 >= last } ?? false
        switch (carriedOut, try keys.hasKey(resident)) {
        case (true, true): return .cameBack
        case (false, true): return .pending(last)
        case (_, false): return .carriedOut(last)
        }
    }

    /// Carries out `resident`'s erasure if it is pending (`pendingErasures`), before new
    /// details are sealed for them: a resident who comes back while their erasure is
    /// unfinished would otherwise have the new details sealed with the key the decision
    /// condemned, and destroyed with it when the erasure is finished. Returns the erasure's
    /// position when it carried one out.
    @discardableResult
    public static func finishPendingErasure(of resident: Pseudonym, store: EventStore, keys: KeyStore) throws -> UInt64? {
        guard let position = try pendingErasurePosition(of: resident, store: store, keys: keys) else { return nil }
        _ = try keys.destroyKeys(erasedAt: [resident: position])
        return position
    }

    /// A resident is known if they have a key, a decision stream, or a case opening.
    private func checkKnown(_ residents: [Pseudonym]) throws {
        var unknown: [Pseudonym] = []
        for r in residents {
            let hasKey = try keys.hasKey(r)
            let hasDecisions = try store.streamVersion(.resident(r)) > 0
            if !hasKey && !hasDecisions { unknown.append(r) }
        }
        guard !unknown.isEmpty else { return }
        let directory = try ResidentDirectory.scan(store)
        if let missing = unknown.first(where: { directory.links[$0] == nil }) {
            throw LogError(.notFound, "resident \(missing) is not in this store (no case, no key, no decision); check the pseudonym or look the resident up with --cpr")
        }
    }

    static func checkDecisionText(_ reason: String, _ legalBasis: String) throws {
        guard !reason.allSatisfy(\.isWhitespace) else {
            throw LogError(.invalidInput, "say why (--reason): an erasure decision is recorded with its reason")
        }
        guard !legalBasis.allSatisfy(\.isWhitespace) else {
            throw LogError(.invalidInput, "give the legal basis (--legal-basis), e.g. 'GDPR art. 17(1)(a)' or 'arkivloven § 4'")
        }
        guard !PersonalDetails.containsCPRNumber(reason), !PersonalDetails.containsCPRNumber(legalBasis) else {
            throw LogError(.invalidInput, "the reason or legal basis looks like it contains a CPR number; the log cannot erase it later: write it without the number")
        }
    }
}
