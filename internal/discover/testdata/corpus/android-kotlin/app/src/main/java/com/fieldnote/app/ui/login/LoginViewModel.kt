package com.fieldnote.app.ui.login

import androidx.lifecycle.ViewModel
import androidx.lifecycle.viewModelScope
import com.fieldnote.app.analytics.AnalyticsManager
import com.fieldnote.app.data.User
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.launch

sealed interface LoginState {
    data object Idle : LoginState
    data object Loading : LoginState
    data class Success(val user: User) : LoginState
    data class Error(val message: String) : LoginState
}

interface AuthRepository {
    suspend fun signIn(email: String, password: String): Result<User>
}

class LoginViewModel(
    private val auth: AuthRepository,
    private val analytics: AnalyticsManager,
) : ViewModel() {

    private val _state = MutableStateFlow<LoginState>(LoginState.Idle)
    val state: StateFlow<LoginState> = _state

    fun signIn(email: String, password: String) {
        _state.value = LoginState.Loading
        viewModelScope.launch {
            auth.signIn(email.trim(), password)
                .onSuccess { user ->
                    analytics.onSignedIn(user, method = "password")
                    _state.value = LoginState.Success(user)
                }
                .onFailure { e ->
                    _state.value = LoginState.Error(e.message ?: "Sign-in failed")
                }
        }
    }
}
