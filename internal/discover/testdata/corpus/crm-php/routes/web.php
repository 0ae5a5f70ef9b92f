<?php

use App\Http\Controllers\CustomerController;
use App\Http\Controllers\NewsletterController;
use Illuminate\Support\Facades\Route;

Route::middleware('auth')->group(function () {
    Route::post('/contacts', [CustomerController::class, 'store'])->name('contacts.store');
    Route::post('/contacts/{contact}/billing', [CustomerController::class, 'enableBilling'])->name('contacts.billing');
    Route::post('/contacts/{contact}/newsletter', [NewsletterController::class, 'subscribe'])->name('contacts.newsletter');
});
