plugins {
    id("com.android.application") version "8.7.2" apply false
    id("org.jetbrains.kotlin.android") version "2.0.21" apply false
    id("io.sentry.android.gradle") version "4.13.0" apply false
}
