import Foundation
import ReferralEvents

// Before anything opens a file: a closed standard output or error must not become a
// store file's descriptor (see StandardDescriptors).
StandardDescriptors.ensureOpen()

// A custom entry point instead of `ReferralCommand.main()`, so that every error is mapped
// to its documented exit status (see Support/Runner.swift).
exit(Runner.main(Array(CommandLine.arguments.dropFirst())))
