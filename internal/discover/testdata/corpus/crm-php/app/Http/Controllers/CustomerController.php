<?php

namespace App\Http\Controllers;

use App\Models\Contact;
use App\Services\WelcomeMailer;
use Illuminate\Http\RedirectResponse;
use Illuminate\Http\Request;
use Illuminate\Support\Facades\Log;
use Stripe\Exception\ApiErrorException;
use Stripe\StripeClient;

class CustomerController extends Controller
{
    public function __construct(private WelcomeMailer $mailer)
    {
    }

    public function store(Request $request): RedirectResponse
    {
        $data = $request->validate([
            'first_name' => ['required', 'string', 'max:100'],
            'last_name' => ['required', 'string', 'max:100'],
            'email' => ['required', 'email', 'unique:contacts,email'],
            'phone' => ['nullable', 'string', 'max:32'],
            'company' => ['nullable', 'string', 'max:200'],
        ]);

        $contact = Contact::create($data);
        $this->mailer->send($contact);

        return back()->with('status', 'Contact created.');
    }

    public function enableBilling(Contact $contact): RedirectResponse
    {
        if ($contact->stripe_customer_id) {
            return back();
        }

        $stripe = new StripeClient(config('services.stripe.secret'));

        try {
            $customer = $stripe->customers->create([
                'email' => $contact->email,
                'name' => $contact->full_name,
                'metadata' => ['crm_contact_id' => $contact->id],
            ]);
        } catch (ApiErrorException $e) {
            Log::error('stripe customer create failed', ['contact' => $contact->id, 'error' => $e->getMessage()]);

            return back()->withErrors(['billing' => 'Could not create the billing profile.']);
        }

        $contact->update(['stripe_customer_id' => $customer->id]);

        return back()->with('status', 'Billing enabled.');
    }
}
