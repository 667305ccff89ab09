import Foundation

// A custom entry point instead of `ReferralCommand.main()`, so that every error is mapped
// to its documented exit status (see Support/Runner.swift).
exit(Runner.main(Array(CommandLine.arguments.dropFirst())))
