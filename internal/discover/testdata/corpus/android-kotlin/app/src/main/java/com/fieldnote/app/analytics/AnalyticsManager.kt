package com.fieldnote.app.analytics

import android.content.Context
import com.amplitude.android.Amplitude
import com.amplitude.core.events.Identify
import com.braze.Braze
import com.fieldnote.app.data.User
import io.sentry.Sentry
import io.sentry.protocol.User as SentryUser

/**
 * One place for everything that tells third parties who the user is.
 */
class AnalyticsManager(
    private val context: Context,
    private val amplitude: Amplitude,
) {

    fun onSignedIn(user: User, method: String) {
        amplitude.setUserId(user.id)
        amplitude.identify(Identify().set("plan", user.plan))
        amplitude.track(
            "Signed In",
            mapOf(
                "email" to user.email,
                "method" to method,
            )
        )

        val braze = Braze.getInstance(context)
        braze.changeUser(user.id)
        braze.currentUser?.setEmail(user.email)
        braze.currentUser?.setFirstName(user.firstName)

        Sentry.setUser(SentryUser().apply { id = user.id })
    }

    fun noteCreated(wordCount: Int) {
        amplitude.track("Note Created", mapOf("word_count" to wordCount))
    }

    fun onSignedOut() {
        amplitude.reset()
        Sentry.setUser(null)
    }
}
