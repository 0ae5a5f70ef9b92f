<?php

return [

    'stripe' => [
        'secret' => env('STRIPE_SECRET'),
    ],

    'sendgrid' => [
        'key' => env('SENDGRID_API_KEY'),
        'from' => env('SENDGRID_FROM_EMAIL', 'hello@crm.acme.test'),
    ],

    'mailchimp' => [
        'key' => env('MAILCHIMP_API_KEY'),
        'server' => env('MAILCHIMP_SERVER_PREFIX'),
        'list_id' => env('MAILCHIMP_LIST_ID'),
    ],

];
