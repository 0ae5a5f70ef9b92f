package com.fieldnote.app

import android.app.Application
import com.amplitude.android.Amplitude
import com.amplitude.android.Configuration
import com.braze.BrazeActivityLifecycleCallbackListener
import com.fieldnote.app.analytics.AnalyticsManager

class FieldNoteApp : Application() {

    lateinit var analytics: AnalyticsManager
        private set

    override fun onCreate() {
        super.onCreate()

        val amplitude = Amplitude(
            Configuration(
                apiKey = BuildConfig.AMPLITUDE_API_KEY,
                context = applicationContext,
                flushIntervalMillis = 30_000,
            )
        )

        // Braze reads its API key and endpoint from res/values/braze.xml.
        registerActivityLifecycleCallbacks(BrazeActivityLifecycleCallbackListener())

        analytics = AnalyticsManager(this, amplitude)
    }
}
