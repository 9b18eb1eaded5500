import Foundation

/// One line of status to standard error (standard output stays free for data).
func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
