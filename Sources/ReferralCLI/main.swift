import Foundation
import ReferralEvents

// Before anything opens a file: a closed standard output or error must not become a
// store file's descriptor (see StandardDescriptors).
StandardDescriptors.ensureOpen()

// A write past a file size limit (`ulimit -f`) fails with EFBIG, which every command
// reports (exit 74, "File too large"; an `--out` file's `.partial` removed) as it does a
// full disk. Left to its default, SIGXFSZ would end the process in the middle of the write
// instead, without a word. PostgreSQL ignores it for the same reason.
signal(SIGXFSZ, SIG_IGN)

// A custom entry point instead of `ReferralCommand.main()`, so that every error is mapped
// to its documented exit status (see Support/Runner.swift).
exit(Runner.main(Array(CommandLine.arguments.dropFirst())))
