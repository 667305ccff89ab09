import Testing

/// Commands whose library has not landed in this build say so honestly: exit 64 and a
/// message naming what is missing, never a fake result.
@Suite struct NotYetAvailableTests {
    @Test(arguments: [["caseload"], ["history", "C1"], ["stats"], ["rebuild"], ["demo"]])
    func saysItIsNotAvailable(_ args: [String]) throws {
        let sandbox = try Sandbox()
        try sandbox.seed()
        let r = try sandbox.run(args)
        #expect(r.status == 64, "\(r)")
        #expect(r.err.contains("is not available in this build"))
        #expect(try sandbox.head().position == 9)
    }
}
