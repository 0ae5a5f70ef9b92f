<?php

namespace App\Services;

use App\Models\Contact;
use Illuminate\Support\Facades\Log;
use SendGrid;
use SendGrid\Mail\Mail;

class WelcomeMailer
{
    public function send(Contact $contact): void
    {
        $email = new Mail();
        $email->setFrom(config('services.sendgrid.from'), 'Acme CRM');
        $email->setSubject('Welcome to Acme CRM');
        $email->addTo($contact->email, $contact->full_name);
        $email->addContent(
            'text/plain',
            "Welcome aboard! Your workspace is ready at " . config('app.url') . "."
        );

        $sendgrid = new SendGrid(config('services.sendgrid.key'));
        $response = $sendgrid->send($email);

        if ($response->statusCode() >= 300) {
            Log::warning('welcome mail not accepted', [
                'contact' => $contact->id,
                'status' => $response->statusCode(),
            ]);
        }
    }
}
