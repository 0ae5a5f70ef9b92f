import Foundation

struct User: Codable, Equatable {
    let id: String
    let name: String
    let email: String
    let createdAt: Date
}

struct Order: Codable {
    let id: String
    let total: Decimal
    let currency: String
    let itemCount: Int
}
