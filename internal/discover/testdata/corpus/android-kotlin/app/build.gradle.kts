plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
    id("io.sentry.android.gradle")
}

android {
    namespace = "com.fieldnote.app"
    compileSdk = 35

    defaultConfig {
        applicationId = "com.fieldnote.app"
        minSdk = 26
        targetSdk = 35
        versionCode = 42
        versionName = "2.3.0"

        buildConfigField(
            "String",
            "AMPLITUDE_API_KEY",
            "\"${providers.gradleProperty("AMPLITUDE_API_KEY").getOrElse("")}\"",
        )
    }

    buildFeatures {
        buildConfig = true
        compose = false
        viewBinding = true
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions {
        jvmTarget = "17"
    }
}

sentry {
    autoUploadProguardMapping.set(true)
    includeSourceContext.set(false)
}

dependencies {
    implementation("androidx.core:core-ktx:1.13.1")
    implementation("androidx.appcompat:appcompat:1.7.0")
    implementation("androidx.lifecycle:lifecycle-viewmodel-ktx:2.8.7")
    implementation("com.google.android.material:material:1.12.0")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.9.0")

    implementation("com.amplitude:analytics-android:1.19.1")
    implementation("io.sentry:sentry-android:7.17.0")
    implementation("com.braze:android-sdk-ui:33.1.0")

    testImplementation("junit:junit:4.13.2")
}
