<?php

namespace App\Http\Controllers;

use App\Models\Contact;
use GuzzleHttp\Exception\ClientException;
use Illuminate\Http\RedirectResponse;
use MailchimpMarketing\ApiClient;

class NewsletterController extends Controller
{
    public function subscribe(Contact $contact): RedirectResponse
    {
        $mailchimp = new ApiClient();
        $mailchimp->setConfig([
            'apiKey' => config('services.mailchimp.key'),
            'server' => config('services.mailchimp.server'),
        ]);

        try {
            $mailchimp->lists->addListMember(config('services.mailchimp.list_id'), [
                'email_address' => $contact->email,
                'status' => 'subscribed',
                'merge_fields' => [
                    'FNAME' => $contact->first_name,
                    'LNAME' => $contact->last_name,
                    'COMPANY' => $contact->company ?? '',
                ],
                'tags' => ['crm'],
            ]);
        } catch (ClientException $e) {
            // 400 "Member Exists" is fine: they are already on the list.
            if ($e->getResponse()->getStatusCode() !== 400) {
                throw $e;
            }
        }

        $contact->update(['newsletter_opt_in' => true]);

        return back()->with('status', 'Subscribed to the newsletter.');
    }
}
