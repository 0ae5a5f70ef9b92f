package com.fieldnote.app.data

data class User(
    val id: String,
    val email: String,
    val firstName: String,
    val lastName: String,
    val plan: String,
)
